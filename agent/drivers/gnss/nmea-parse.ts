/**
 * NMEA 0183 sentences from any GNSS talker (GP, GN, GL, GA, GB, GQ …): checksum checked, fields
 * decoded for GGA, RMC, GSA, GSV, VTG, GLL and ZDA. Written for speed: one pass for the checksum,
 * one split, numbers parsed without regular expressions.
 */

export interface Gga {
  type: 'GGA';
  talker: string;
  time: string;
  lat?: number;
  lon?: number;
  /** 0 no fix, 1 GPS, 2 DGPS, 4/5 RTK, 6 dead reckoning. */
  quality: number;
  sats?: number;
  hdop?: number;
  /** Above mean sea level, metres. */
  alt?: number;
}
export interface Rmc {
  type: 'RMC';
  talker: string;
  time: string;
  valid: boolean;
  lat?: number;
  lon?: number;
  speedKn?: number;
  course?: number;
  /** ddmmyy */
  date: string;
}
export interface Gsa {
  type: 'GSA';
  talker: string;
  /** 1 no fix, 2 2D, 3 3D. */
  mode: number;
  prns: number[];
  pdop?: number;
  hdop?: number;
  vdop?: number;
}
export interface Gsv {
  type: 'GSV';
  talker: string;
  total: number;
  index: number;
  inView: number;
  sats: { prn: number; elevation?: number; azimuth?: number; snr?: number }[];
}
export interface Vtg {
  type: 'VTG';
  talker: string;
  course?: number;
  speedKmh?: number;
}
export interface Gll {
  type: 'GLL';
  talker: string;
  time: string;
  valid: boolean;
  lat?: number;
  lon?: number;
}
export interface Zda {
  type: 'ZDA';
  talker: string;
  time: string;
  day: number;
  month: number;
  year: number;
}
export type NmeaSentence = Gga | Rmc | Gsa | Gsv | Vtg | Gll | Zda;

/** Why a line was not a sentence: a bad checksum, not NMEA at all, or a sentence this parser does not read. */
export type NmeaReject = 'checksum' | 'malformed' | 'other';

const HEX = (c: number) =>
  c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * A cursor over the fields of the sentence being parsed: numbers are read straight from the
 * characters, no substring made. Module state, as parsing is synchronous and not re-entrant.
 */
let text = '';
let at = 0;
let stop = 0;

/** Skips to the start of the next field. */
function skip(): void {
  while (at < stop && text.charCodeAt(at) !== 44) at++;
  at++;
}

function str(): string {
  const from = at;
  skip();
  return text.slice(from, Math.min(at - 1, stop));
}

/** The last decimal field read: its integer part, its fraction as an integer and that fraction's digits. */
let whole = 0;
let frac = 0;
let fracDigits = 0;
let negative = false;
/** Reads a decimal field; false when it is empty or not a number. */
function decimal(): boolean {
  whole = 0;
  frac = 0;
  fracDigits = 0;
  negative = false;
  let c = text.charCodeAt(at);
  if (c === 45 /* - */) {
    negative = true;
    c = text.charCodeAt(++at);
  }
  let digits = 0;
  while (at < stop && c >= 48 && c <= 57) {
    whole = whole * 10 + (c - 48);
    digits++;
    c = text.charCodeAt(++at);
  }
  if (c === 46 /* . */ && at < stop) {
    c = text.charCodeAt(++at);
    while (at < stop && c >= 48 && c <= 57 && fracDigits < 15) {
      frac = frac * 10 + (c - 48);
      fracDigits++;
      c = text.charCodeAt(++at);
    }
    digits += fracDigits;
  }
  const clean = at >= stop || c === 44;
  skip();
  return digits > 0 && clean;
}

/** A number field; undefined when empty or not a number. Rounded as `Number(text)` rounds it. */
function num(): number | undefined {
  if (!decimal()) return undefined;
  const v = fracDigits ? (whole * POW10[fracDigits]! + frac) / POW10[fracDigits]! : whole;
  return negative ? -v : v;
}

/** `ddmm.mmmm` / `dddmm.mmmm` and the hemisphere field after it, to signed degrees. */
function coord(): number | undefined {
  const ok = decimal();
  const hemi = text.charCodeAt(at);
  skip();
  if (!ok) return undefined;
  const deg = Math.trunc(whole / 100);
  const minutes = ((whole % 100) * POW10[fracDigits]! + frac) / POW10[fracDigits]!;
  const d = deg + minutes / 60;
  return hemi === 83 /* S */ || hemi === 87 /* W */ ? -d : d;
}

export function parseNmea(line: string): NmeaSentence | NmeaReject {
  let end = line.length;
  while (end > 0 && (line.charCodeAt(end - 1) === 13 || line.charCodeAt(end - 1) === 32)) end--;
  if (line.charCodeAt(0) !== 36 /* $ */ || end < 9 || line.charCodeAt(end - 3) !== 42 /* * */)
    return 'malformed';
  let sum = 0;
  for (let i = 1; i < end - 3; i++) {
    const c = line.charCodeAt(i);
    if (c < 32 || c > 126) return 'malformed';
    sum ^= c;
  }
  const hi = HEX(line.charCodeAt(end - 2));
  const lo = HEX(line.charCodeAt(end - 1));
  if (hi < 0 || lo < 0) return 'malformed';
  if (sum !== hi * 16 + lo) return 'checksum';
  if (line.charCodeAt(1) === 80 /* P: proprietary */ || line.charCodeAt(6) !== 44) return 'other';
  text = line;
  stop = end - 3;
  at = 7;
  const talker = line.slice(1, 3);
  // The sentence type by its three letters (line[3..5]).
  switch (line.slice(3, 6)) {
    case 'GGA': {
      const time = str();
      const lat = coord();
      const lon = coord();
      const quality = num() ?? 0;
      const sats = num();
      const hdop = num();
      return { type: 'GGA', talker, time, lat, lon, quality, sats, hdop, alt: num() };
    }
    case 'RMC': {
      const time = str();
      const valid = line.charCodeAt(at) === 65; /* A */
      skip();
      const lat = coord();
      const lon = coord();
      const speedKn = num();
      const course = num();
      return { type: 'RMC', talker, time, valid, lat, lon, speedKn, course, date: str() };
    }
    case 'GSA': {
      skip();
      const mode = num() ?? 1;
      const prns: number[] = [];
      for (let i = 0; i < 12; i++) {
        const p = num();
        if (p !== undefined) prns.push(p);
      }
      const pdop = num();
      const hdop = num();
      return { type: 'GSA', talker, mode, prns, pdop, hdop, vdop: num() };
    }
    case 'GSV': {
      const total = num() ?? 0;
      const index = num() ?? 0;
      const inView = num() ?? 0;
      const sats: Gsv['sats'] = [];
      while (at < stop) {
        const prn = num();
        if (prn === undefined) break;
        const elevation = num();
        const azimuth = num();
        sats.push({ prn, elevation, azimuth, snr: num() });
      }
      return { type: 'GSV', talker, total, index, inView, sats };
    }
    case 'VTG': {
      const course = num();
      for (let i = 0; i < 5; i++) skip();
      return { type: 'VTG', talker, course, speedKmh: num() };
    }
    case 'GLL': {
      const lat = coord();
      const lon = coord();
      const time = str();
      return { type: 'GLL', talker, time, valid: line.charCodeAt(at) === 65, lat, lon };
    }
    case 'ZDA': {
      const time = str();
      const day = num() ?? 0;
      const month = num() ?? 0;
      return { type: 'ZDA', talker, time, day, month, year: num() ?? 0 };
    }
    default:
      return 'other';
  }
}
