import { distanceM } from '../../core/geo.js';
import { seeded } from './random.js';

export type Cycle = 'urban' | 'highway' | 'idle';

type PhaseKind = 'off' | 'idle' | 'accel' | 'cruise' | 'brake';
interface Phase {
  kind: PhaseKind;
  /** Seconds, for off / idle / cruise; accel and brake end on reaching their speed. */
  duration: number;
  target: number;
  /** m/s², for accel and brake. */
  rate: number;
}

export interface LatLon {
  lat: number;
  lon: number;
}

/** A loop through central Oslo: the default route. */
export const DEFAULT_ROUTE: LatLon[] = [
  { lat: 59.9139, lon: 10.7522 },
  { lat: 59.9171, lon: 10.7275 },
  { lat: 59.9226, lon: 10.7133 },
  { lat: 59.9311, lon: 10.7203 },
  { lat: 59.9347, lon: 10.7589 },
  { lat: 59.9262, lon: 10.7777 },
  { lat: 59.9139, lon: 10.7522 },
];

const CYCLES: Record<
  Cycle,
  { speeds: [number, number]; cruise: [number, number]; idle: [number, number]; parkEvery: number }
> = {
  urban: { speeds: [30, 60], cruise: [20, 90], idle: [8, 40], parkEvery: 20 * 60 },
  highway: { speeds: [80, 120], cruise: [120, 600], idle: [5, 20], parkEvery: 90 * 60 },
  idle: { speeds: [0, 0], cruise: [0, 0], idle: [600, 600], parkEvery: Number.POSITIVE_INFINITY },
};

const DTC_POOL = ['P0301', 'P0420', 'P0171', 'P0128', 'P0442', 'P0113'];
const STEP_S = 0.1;
const GEAR_TOP_KMH = [0, 20, 40, 65, 90, 250];
const GEAR_RPM_PER_KMH = [0, 110, 65, 45, 34, 27];

export interface ModelOptions {
  cycle: Cycle;
  seed: number;
  route?: LatLon[];
  /** Chance per simulated minute of the engine running that a trouble code appears. */
  dtcRate: number;
}

/**
 * A deterministic drive: the same seed gives the same speeds, positions and trouble codes.
 * State advances in fixed 100 ms steps of simulated time, whatever the caller's rhythm.
 */
export class VehicleModel {
  private readonly rand: () => number;
  private readonly cycle: (typeof CYCLES)[Cycle];
  private readonly route: LatLon[];
  private readonly legs: number[];
  private readonly routeLength: number;
  private phase: Phase = { kind: 'off', duration: 5, target: 0, rate: 0 };
  private phaseElapsed = 0;
  private sinceParked = 0;

  t = 0;
  engineOn = false;
  speed = 0;
  rpm = 0;
  throttle = 0;
  coolant = 15;
  fuel = 72;
  volts = 12.6;
  runTime = 0;
  odometer = 0;
  dtcs: string[] = [];

  constructor(private readonly opts: ModelOptions) {
    this.rand = seeded(opts.seed);
    this.cycle = CYCLES[opts.cycle];
    this.route = opts.route ?? DEFAULT_ROUTE;
    this.legs = this.route
      .slice(1)
      .map((p, i) => distanceM(this.route[i]!.lat, this.route[i]!.lon, p.lat, p.lon));
    this.routeLength = this.legs.reduce((a, b) => a + b, 0);
  }

  private between([lo, hi]: [number, number]): number {
    return lo + (hi - lo) * this.rand();
  }

  private nextPhase(): Phase {
    const p = this.phase.kind;
    if (p === 'off') return { kind: 'idle', duration: 5, target: 0, rate: 0 };
    if (this.opts.cycle === 'idle') return { kind: 'idle', duration: 600, target: 0, rate: 0 };
    if (p === 'idle') {
      if (this.sinceParked > this.cycle.parkEvery) {
        this.sinceParked = 0;
        return { kind: 'off', duration: this.between([120, 300]), target: 0, rate: 0 };
      }
      return {
        kind: 'accel',
        duration: 0,
        target: this.between(this.cycle.speeds),
        rate: this.between([1.2, 2.8]),
      };
    }
    if (p === 'accel')
      return { kind: 'cruise', duration: this.between(this.cycle.cruise), target: this.speed, rate: 0 };
    if (p === 'cruise') {
      // Now and then a change of pace instead of a stop; one stop in twenty is a hard one.
      if (this.rand() < 0.3) {
        return {
          kind: 'accel',
          duration: 0,
          target: this.between(this.cycle.speeds),
          rate: this.between([1, 2]),
        };
      }
      return {
        kind: 'brake',
        duration: 0,
        target: 0,
        rate: this.rand() < 0.05 ? 7 : this.between([1.5, 3.5]),
      };
    }
    return { kind: 'idle', duration: this.between(this.cycle.idle), target: 0, rate: 0 };
  }

  /** Runs the simulation up to `simSeconds` after its start. */
  advanceTo(simSeconds: number): void {
    while (this.t + STEP_S <= simSeconds) this.step();
  }

  private step(): void {
    const dt = STEP_S;
    this.t = Math.round((this.t + dt) * 10) / 10;
    this.phaseElapsed += dt;
    const ph = this.phase;
    const ms = this.speed / 3.6;
    let done = false;
    switch (ph.kind) {
      case 'accel': {
        const next = (ms + (ph.target > this.speed ? ph.rate : -ph.rate) * dt) * 3.6;
        done = ph.target > this.speed ? next >= ph.target : next <= ph.target;
        this.speed = done ? ph.target : next;
        this.throttle = ph.target > this.speed ? 35 + 20 * this.rand() : 5;
        break;
      }
      case 'brake':
        this.speed = Math.max(0, (ms - ph.rate * dt) * 3.6);
        done = this.speed === 0;
        this.throttle = 0;
        break;
      case 'cruise':
        this.speed = Math.max(0, ph.target + 2 * Math.sin(this.phaseElapsed / 7) + (this.rand() - 0.5));
        this.throttle = 14 + 8 * this.rand();
        done = this.phaseElapsed >= ph.duration;
        break;
      default:
        this.speed = 0;
        this.throttle = ph.kind === 'idle' ? 2 + this.rand() : 0;
        done = this.phaseElapsed >= ph.duration;
    }
    this.engineOn = ph.kind !== 'off';
    this.updateEngine(dt);
    this.move(dt);
    if (done) {
      this.phase = this.nextPhase();
      this.phaseElapsed = 0;
    }
  }

  private updateEngine(dt: number): void {
    if (this.engineOn) {
      this.sinceParked += dt;
      this.runTime += dt;
      const gear = GEAR_TOP_KMH.findIndex((top) => this.speed <= top);
      const g = Math.max(1, gear);
      this.rpm = this.speed < 1 ? 760 + 30 * this.rand() : Math.max(900, this.speed * GEAR_RPM_PER_KMH[g]!);
      this.coolant += ((92 - this.coolant) * dt) / 240;
      this.fuel = Math.max(0, this.fuel - this.rpm * 7e-7 * dt);
      this.volts = 14.1 + 0.1 * (this.rand() - 0.5);
      if (this.rand() < (this.opts.dtcRate * dt) / 60) {
        const code = DTC_POOL[Math.floor(this.rand() * DTC_POOL.length)]!;
        if (!this.dtcs.includes(code)) this.dtcs.push(code);
      }
    } else {
      this.rpm = 0;
      this.runTime = 0;
      this.coolant += ((15 - this.coolant) * dt) / 1800;
      this.volts = Math.max(11.8, this.volts - (this.volts > 12.6 ? 0.01 : 0.00002) * dt * 10);
    }
  }

  private move(dt: number): void {
    this.odometer += (this.speed / 3.6) * dt;
  }

  /** Position along the route after the distance driven, looping; heading in degrees. */
  position(): { lat: number; lon: number; speed: number; heading: number } {
    let d = this.routeLength > 0 ? this.odometer % this.routeLength : 0;
    for (let i = 0; i < this.legs.length; i++) {
      const leg = this.legs[i]!;
      const a = this.route[i]!;
      const b = this.route[i + 1]!;
      if (d <= leg || i === this.legs.length - 1) {
        const f = leg > 0 ? Math.min(1, d / leg) : 0;
        const heading = ((Math.atan2(b.lon - a.lon, b.lat - a.lat) * 180) / Math.PI + 360) % 360;
        return {
          lat: a.lat + (b.lat - a.lat) * f,
          lon: a.lon + (b.lon - a.lon) * f,
          speed: Math.round(this.speed * 10) / 10,
          heading: Math.round(heading),
        };
      }
      d -= leg;
    }
    return { ...this.route[0]!, speed: 0, heading: 0 };
  }
}
