import type { PowerT } from '../../schemas/power.js';
import { ageOf, type Clock, type Timer } from '../core/clock.js';
import type { PowerAction } from './logind.js';

/** A battery reading: volts, and when it was read. */
export interface Reading {
  volts: number;
  ts: number;
}

export interface PolicyDeps {
  clock: Clock;
  settings: PowerT;
  reading(): Reading | undefined;
  /** `sleep.when` holds (engine off, no motion …). */
  sleepWanted(): boolean;
  /** `inhibit` holds: sleep and hibernate wait. */
  inhibited(): boolean;
  act(action: PowerAction, reason: string): void;
  /** An action is due but `inhibit` holds it back (said once per hold). */
  held(action: PowerAction, reason: string): void;
}

/** An action waiting for its hold to last: when it is due, and why. */
export interface Due {
  action: PowerAction;
  at: number;
  reason: string;
  /** The safety cut-out: nothing holds it back. */
  safety?: boolean;
}

/** While an action is held back, how often `inhibit` is looked at again (it may read more than signals). */
const RECHECK_MS = 5000;

/** The more severe action goes first and is never stopped by a milder one taken before it. */
const SEVERITY: Record<PowerAction, number> = { sleep: 0, hibernate: 1, shutdown: 2 };

const seconds = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

/**
 * When the unit should sleep, hibernate or power off (DESIGN §13), on the agent's clock: the
 * cut-out and hibernation when the battery has stayed below their voltage for their duration
 * (leaving that state takes `hysteresis` volts more; a reading older than `max_age` counts for
 * nothing, so a silent adapter cannot hold a low reading), the sleep timer when `sleep.when` has
 * held for `sleep.after` (any moment it does not starts it again). `inhibit` holds back sleep and
 * hibernation, never the cut-out. An action taken is not taken again until its hold ends or the
 * unit wakes (`reset`).
 */
export class PowerPolicy {
  private readonly low = { cutout: false, hibernate: false };
  private readonly since: { cutout?: number; hibernate?: number; sleep?: number } = {};
  private taken?: PowerAction;
  private heldBack?: PowerAction;
  private timer?: Timer;
  private last?: Reading;

  constructor(private readonly deps: PolicyDeps) {}

  /** Looks again (a signal changed, a timer fired); acts on what is due. */
  evaluate(): void {
    const { clock, settings: s } = this.deps;
    const now = clock.now();
    const r = this.deps.reading();
    const fresh = r && ageOf(now, r.ts) <= s.max_age ? r : undefined;
    this.last = fresh;
    for (const kind of ['cutout', 'hibernate'] as const) {
      const t = s[kind];
      if (!t) continue;
      this.low[kind] = fresh
        ? this.low[kind]
          ? fresh.volts < t.below + s.hysteresis
          : fresh.volts < t.below
        : false;
      this.hold(kind, this.low[kind], now);
    }
    this.hold('sleep', s.sleep !== undefined && this.deps.sleepWanted(), now);
    const pending = this.pending();
    if (this.taken && !pending.some((p) => p.action === this.taken)) this.taken = undefined;
    const due = pending.find((p) => p.at <= now);
    if (due) this.decide(due);
    else this.heldBack = undefined;
    this.arm(now, pending, fresh);
  }

  /** A rule asks for an action: `inhibit` still holds it back. */
  request(action: PowerAction, reason: string): void {
    this.decide({ action, at: this.deps.clock.now(), reason });
  }

  /** The unit woke: every hold starts again from now. */
  reset(): void {
    this.taken = undefined;
    this.heldBack = undefined;
    delete this.since.cutout;
    delete this.since.hibernate;
    delete this.since.sleep;
    this.evaluate();
  }

  /** What would happen next, and why: the most severe action waiting. */
  next(): Due | undefined {
    return this.pending()[0];
  }

  /** The last reading taken into account (fresh), if any. */
  get reading(): Reading | undefined {
    return this.last;
  }

  stop(): void {
    this.timer?.cancel();
  }

  private hold(kind: 'cutout' | 'hibernate' | 'sleep', on: boolean, now: number): void {
    if (!on) delete this.since[kind];
    // Begun now, or again when the clock was set back past its beginning (else it would hold for as long).
    else if (this.since[kind] === undefined || this.since[kind] > now) this.since[kind] = now;
  }

  /** Actions whose hold has begun, most severe first. */
  private pending(): Due[] {
    const s = this.deps.settings;
    const v = this.last ? `${this.last.volts} V` : 'the battery';
    const out: Due[] = [];
    if (s.cutout && this.since.cutout !== undefined)
      out.push({
        action: 'shutdown',
        safety: true,
        at: this.since.cutout + s.cutout.for,
        reason: `cut-out: ${v} below ${s.cutout.below} V for ${seconds(s.cutout.for)}`,
      });
    if (s.hibernate && this.since.hibernate !== undefined)
      out.push({
        action: 'hibernate',
        at: this.since.hibernate + s.hibernate.for,
        reason: `low battery: ${v} below ${s.hibernate.below} V for ${seconds(s.hibernate.for)}`,
      });
    if (s.sleep && this.since.sleep !== undefined)
      out.push({
        action: 'sleep',
        at: this.since.sleep + s.sleep.after,
        reason: `sleep timer: sleep.when held for ${seconds(s.sleep.after)}`,
      });
    return out;
  }

  private decide(due: Due): void {
    if (this.taken && SEVERITY[this.taken] >= SEVERITY[due.action]) return;
    if (!due.safety && this.deps.inhibited()) {
      if (this.heldBack !== due.action) this.deps.held(due.action, due.reason);
      this.heldBack = due.action;
      return;
    }
    this.heldBack = undefined;
    this.taken = due.action;
    this.deps.act(due.action, due.reason);
  }

  /** Wakes up at the next moment something can change without a signal: a hold ending, a reading going stale. */
  private arm(now: number, pending: Due[], fresh: Reading | undefined): void {
    this.timer?.cancel();
    const times = pending.map((p) => p.at).filter((t) => t > now);
    if (fresh) times.push(fresh.ts + this.deps.settings.max_age + 1);
    if (this.heldBack) times.push(now + RECHECK_MS);
    if (!times.length) return;
    this.timer = this.deps.clock.setTimeout(() => this.evaluate(), Math.min(...times) - now);
  }
}
