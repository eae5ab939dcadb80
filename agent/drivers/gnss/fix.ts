import { ageOf } from '../../core/clock.js';
import type { NmeaSentence } from './nmea-parse.js';

/** The `location` result of a GNSS receiver. Positions in degrees, altitude in metres above sea level. */
export interface Location {
  lat: number | null;
  lon: number | null;
  alt: number | null;
  speed_kmh: number | null;
  course: number | null;
  /** Satellites used in the fix. */
  sats: number | null;
  hdop: number | null;
  fix: 'none' | '2d' | '3d';
  /** ISO time of the fix, when the receiver gave a date. */
  utc: string | null;
}

const KNOT_KMH = 1.852;

/**
 * One fix merged from the sentences of each epoch: position from GGA, RMC or GLL; altitude and
 * satellites from GGA; speed and course from VTG or RMC; 2D/3D from GSA; time from RMC or ZDA. A
 * receiver that says it has no fix (RMC/GLL status V, GGA quality 0, GSA mode 1), or that has
 * said nothing for `staleMs`, has no position.
 */
export class FixMerger {
  private lat?: number;
  private lon?: number;
  private alt?: number;
  private speed?: number;
  private course?: number;
  private sats?: number;
  private hdop?: number;
  private mode?: number;
  private valid = false;
  private time = '';
  private date = '';
  private heard = Number.NEGATIVE_INFINITY;

  apply(s: NmeaSentence, now: number): void {
    this.heard = now;
    switch (s.type) {
      case 'GGA':
        this.valid = s.quality > 0;
        this.position(s.lat, s.lon);
        if (s.alt !== undefined) this.alt = s.alt;
        if (s.sats !== undefined) this.sats = s.sats;
        if (s.hdop !== undefined) this.hdop = s.hdop;
        this.time = s.time || this.time;
        break;
      case 'RMC':
        this.valid = s.valid;
        this.position(s.lat, s.lon);
        if (s.speedKn !== undefined) this.speed = s.speedKn * KNOT_KMH;
        if (s.course !== undefined) this.course = s.course;
        this.time = s.time || this.time;
        if (s.date.length === 6)
          this.date = `20${s.date.slice(4, 6)}-${s.date.slice(2, 4)}-${s.date.slice(0, 2)}`;
        break;
      case 'GLL':
        this.valid = s.valid;
        this.position(s.lat, s.lon);
        break;
      case 'GSA':
        this.mode = s.mode;
        if (s.hdop !== undefined) this.hdop = s.hdop;
        break;
      case 'VTG':
        if (s.speedKmh !== undefined) this.speed = s.speedKmh;
        if (s.course !== undefined) this.course = s.course;
        break;
      case 'ZDA':
        if (s.year) this.date = `${s.year}-${pad(s.month)}-${pad(s.day)}`;
        this.time = s.time || this.time;
        break;
      case 'GSV':
        break;
    }
  }

  /** A sentence that says the receiver has a fix outdates the last GSA that said it had none. */
  private position(lat: number | undefined, lon: number | undefined): void {
    if (this.valid && this.mode === 1) this.mode = undefined;
    if (lat !== undefined && lon !== undefined) {
      this.lat = lat;
      this.lon = lon;
    }
  }

  location(now: number, staleMs: number): Location {
    const fresh = ageOf(now, this.heard) <= staleMs;
    const has = fresh && this.valid && this.lat !== undefined && this.mode !== 1;
    const fix: Location['fix'] = !has
      ? 'none'
      : this.mode === 2
        ? '2d'
        : this.mode === 3 || this.alt !== undefined
          ? '3d'
          : '2d';
    const v = <T>(x: T | undefined) => (has && x !== undefined ? x : null);
    return {
      lat: v(this.lat),
      lon: v(this.lon),
      alt: fix === '3d' ? v(this.alt) : null,
      speed_kmh: v(this.speed === undefined ? undefined : Math.round(this.speed * 100) / 100),
      course: v(this.course),
      sats: fresh ? (this.sats ?? null) : null,
      hdop: v(this.hdop),
      fix,
      utc:
        fresh && this.date && this.time.length >= 6
          ? `${this.date}T${this.time.slice(0, 2)}:${this.time.slice(2, 4)}:${this.time.slice(4)}Z`
          : null,
    };
  }
}

const pad = (n: number) => String(n).padStart(2, '0');
