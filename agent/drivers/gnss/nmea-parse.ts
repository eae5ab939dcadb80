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

const num = (s: string | undefined): number | undefined => {
  if (!s) return undefined;
  const v = +s;
  return Number.isNaN(v) ? undefined : v;
};

/** `ddmm.mmmm` / `dddmm.mmmm` and a hemisphere to signed degrees (minutes split off as text, so no rounding creeps in). */
function coord(v: string | undefined, hemi: string | undefined): number | undefined {
  if (!v) return undefined;
  const dot = v.indexOf('.');
  const split = (dot < 0 ? v.length : dot) - 2;
  const d = +v.slice(0, split) + +v.slice(split) / 60;
  if (Number.isNaN(d) || split < 0) return undefined;
  return hemi === 'S' || hemi === 'W' ? -d : d;
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
  if (line.charCodeAt(1) === 80 /* P: proprietary */) return 'other';
  const f = line.slice(1, end - 3).split(',');
  const talker = f[0]!.slice(0, 2);
  switch (f[0]!.slice(2)) {
    case 'GGA':
      return {
        type: 'GGA',
        talker,
        time: f[1] ?? '',
        lat: coord(f[2], f[3]),
        lon: coord(f[4], f[5]),
        quality: num(f[6]) ?? 0,
        sats: num(f[7]),
        hdop: num(f[8]),
        alt: num(f[9]),
      };
    case 'RMC':
      return {
        type: 'RMC',
        talker,
        time: f[1] ?? '',
        valid: f[2] === 'A',
        lat: coord(f[3], f[4]),
        lon: coord(f[5], f[6]),
        speedKn: num(f[7]),
        course: num(f[8]),
        date: f[9] ?? '',
      };
    case 'GSA': {
      const prns: number[] = [];
      for (let i = 3; i < 15; i++) {
        const p = num(f[i]);
        if (p !== undefined) prns.push(p);
      }
      return {
        type: 'GSA',
        talker,
        mode: num(f[2]) ?? 1,
        prns,
        pdop: num(f[15]),
        hdop: num(f[16]),
        vdop: num(f[17]),
      };
    }
    case 'GSV': {
      const sats: Gsv['sats'] = [];
      for (let i = 4; i < f.length; i += 4) {
        const prn = num(f[i]);
        if (prn === undefined) break;
        sats.push({ prn, elevation: num(f[i + 1]), azimuth: num(f[i + 2]), snr: num(f[i + 3]) });
      }
      return {
        type: 'GSV',
        talker,
        total: num(f[1]) ?? 0,
        index: num(f[2]) ?? 0,
        inView: num(f[3]) ?? 0,
        sats,
      };
    }
    case 'VTG':
      return { type: 'VTG', talker, course: num(f[1]), speedKmh: num(f[7]) };
    case 'GLL':
      return {
        type: 'GLL',
        talker,
        time: f[5] ?? '',
        valid: f[6] === 'A',
        lat: coord(f[1], f[2]),
        lon: coord(f[3], f[4]),
      };
    case 'ZDA':
      return {
        type: 'ZDA',
        talker,
        time: f[1] ?? '',
        day: num(f[2]) ?? 0,
        month: num(f[3]) ?? 0,
        year: num(f[4]) ?? 0,
      };
    default:
      return 'other';
  }
}
