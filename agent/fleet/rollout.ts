import type { Clock } from '../core/clock.js';
import type { Payload, Rollout, RolloutStore, Target, TargetState } from './store.js';
import { type Ack, type FleetView, shown } from './view.js';
import { tooMany } from './waves.js';

/** How the run reaches the broker: publish at QoS 1, resolved on the broker's PUBACK. */
export interface Publisher {
  publish(topic: string, payload: string): Promise<void>;
}

/** A unit's outcome once it has one; the states a rollout can end a unit in. */
const SETTLED: ReadonlySet<TargetState> = new Set(['applied', 'failed', 'skipped', 'unreached']);

/** The topic a payload goes to under a unit's prefix (DESIGN §6). */
const TOPIC: Record<Payload['kind'], string> = { bundle: 'config', desired: 'desired' };

/**
 * What an acknowledgement says of a payload: `ok` (taken for good), `wait` (taken, on probation),
 * `fail` with why, or undefined when it is about something else.
 */
export function verdict(p: Payload, a: Ack): { ok: true } | { wait: string } | { fail: string } | undefined {
  // A unit's ack is not trusted to be well formed: reasons are read only from a list, shown safely.
  const why = () => {
    const reasons = a.errors ?? a.reasons;
    return [a.status, ...(Array.isArray(reasons) ? reasons : [])].map(shown).join(': ');
  };
  if (p.kind === 'bundle') {
    if (a.messageType !== undefined || a.source !== undefined || a.version !== p.key) return undefined;
    if (a.status !== 'applied') return { fail: why() };
    if (typeof a.probation === 'number' && !a.healthy) return { wait: `on probation for ${a.probation} ms` };
    return { ok: true };
  }
  if (a.messageType !== 'desiredStatusAck') return undefined;
  // A refused one may not name its sequence (it could not be read): it answers what was sent last.
  if (a.sequence !== undefined && a.sequence !== p.key) return undefined;
  return a.status === 'accepted' ? { ok: true } : { fail: why() };
}

/**
 * One rollout run to its end (DESIGN §15): wave by wave, each unit pushed the payload when it is
 * online (or when it comes online, until the deadline), the wave judged when every unit in it has
 * answered or its timeout passed; too many failures abort it, and with a rollback payload the
 * units that took the new one are given it. Every state change is in the store first, so a run
 * that is interrupted resumes from it; pushing again is safe, as units acknowledge the same
 * payload again without applying it twice.
 */
export class RolloutRun {
  private readonly targets: Map<string, Target>;
  private readonly waiters = new Set<() => void>();
  private phase: 'waves' | 'rollback' | 'ended' = 'waves';
  /** The last wave this run has started (-1: none yet). */
  private reached = -1;

  constructor(
    private readonly store: RolloutStore,
    private r: Rollout,
    private readonly broker: Publisher,
    private readonly view: FleetView,
    private readonly clock: Clock,
    private readonly say: (line: string) => void,
  ) {
    this.targets = new Map(store.targets(r.id).map((t) => [t.unit, t]));
  }

  /** A message from the broker under the fleet's prefix. */
  message(topic: string, payload: Buffer, retained: boolean): void {
    const got = this.view.take(topic, payload, retained);
    const t = got && this.targets.get(got.unit.id);
    if (!got || !t) return;
    if (got.leaf === 'online') {
      if (got.unit.online) this.cameOnline(t);
      this.viewChanged();
    }
    if (got.leaf === 'ack' && got.ack) this.acked(t, got.ack);
  }

  /** What the broker had already said (retained acks): units that answered while no run listened. */
  private replay(): void {
    for (const t of this.targets.values())
      for (const a of Object.values(this.view.units.get(t.unit)?.acks ?? {})) if (a) this.acked(t, a);
  }

  /** Runs the rollout from where its record stands to its end; resolves with the final record. */
  async run(): Promise<Rollout> {
    this.replay();
    const ends = this.r.waves;
    for (let w = this.r.wave; w < ends.length && this.phase === 'waves'; w++) {
      this.setRollout({ wave: w });
      this.reached = w;
      const wave = this.inWave(w);
      this.say(`wave ${w + 1}/${ends.length}: ${wave.length} unit(s)`);
      for (const t of wave)
        if (t.state === 'waiting' || t.state === 'sent') this.pushIfOnline(t, this.r.payload);
      // An offline unit does not hold its wave up: it is pushed again when it comes back.
      const away = (t: Target) => (t.state === 'waiting' || t.state === 'sent') && !this.online(t);
      const timedOut = await this.until(
        () => wave.every((t) => SETTLED.has(t.state) || away(t)),
        this.r.waveTimeout,
      );
      for (const t of wave)
        if (t.state === 'sent' && this.online(t))
          this.setTarget(t, 'failed', t.detail ?? 'no acknowledgement within the wave timeout');
      const failed = wave.filter((t) => t.state === 'failed').length;
      this.say(`wave ${w + 1}/${ends.length}: ${this.tally(wave)}${timedOut ? ' (timed out)' : ''}`);
      if (tooMany(failed, wave.length, this.r.maxFailures)) {
        await this.abort(`${failed} of ${wave.length} unit(s) failed in wave ${w + 1}`);
        return this.r;
      }
    }
    // Units offline during their wave take the payload when they come back, until the deadline.
    const left = () => [...this.targets.values()].filter((t) => t.state === 'waiting' || t.state === 'sent');
    if (left().length) {
      this.say(`${left().length} unit(s) not reached yet: waiting for them until the deadline`);
      // After a resume, some may have come back while no run was listening.
      for (const t of left()) this.pushIfOnline(t, this.r.payload);
      await this.until(() => left().length === 0, this.r.deadline - this.clock.now());
    }
    for (const t of left()) this.setTarget(t, 'unreached', t.detail ?? 'offline until the deadline');
    const done = [...this.targets.values()].every((t) => t.state === 'applied');
    this.finish(done ? 'done' : 'expired', done ? null : 'not every unit applied it');
    return this.r;
  }

  /** Units not reached get nothing; with a rollback payload, those that took the new one get it. */
  private async abort(reason: string): Promise<void> {
    this.say(`aborted: ${reason}`);
    for (const t of this.targets.values())
      if (t.state === 'waiting' || t.state === 'sent')
        this.setTarget(t, 'skipped', 'the rollout was aborted');
    const back = this.r.rollback;
    const took = [...this.targets.values()].filter(
      (t) => t.state === 'applied' || t.state === 'rolling_back',
    );
    if (back && took.length) {
      this.phase = 'rollback';
      this.say(`rolling back ${took.length} unit(s)`);
      for (const t of took) {
        this.setTarget(t, 'rolling_back', null);
        this.pushIfOnline(t, back);
      }
      await this.until(
        () => took.every((t) => t.state !== 'rolling_back'),
        Math.min(this.r.waveTimeout, Math.max(0, this.r.deadline - this.clock.now())),
      );
      for (const t of took)
        if (t.state === 'rolling_back')
          this.setTarget(t, 'rollback_failed', 'no acknowledgement of the rollback');
    }
    this.finish('aborted', reason);
  }

  private cameOnline(t: Target): void {
    if (this.phase === 'waves' && this.started(t) && (t.state === 'waiting' || t.state === 'sent'))
      this.push(t, this.r.payload);
    if (this.phase === 'rollback' && t.state === 'rolling_back' && this.r.rollback)
      this.push(t, this.r.rollback);
  }

  private acked(t: Target, a: Ack): void {
    if (t.state === 'rolling_back' && this.r.rollback) {
      const v = verdict(this.r.rollback, a);
      if (v && 'ok' in v) this.setTarget(t, 'rolled_back', null);
      else if (v && 'fail' in v) this.setTarget(t, 'rollback_failed', v.fail);
      return;
    }
    const v = verdict(this.r.payload, a);
    if (!v) return;
    // A unit already running the payload counts wherever it is; any other answer only once sent.
    if (
      t.state === 'sent' ||
      (t.state === 'waiting' && 'ok' in v) ||
      (t.state === 'applied' && 'fail' in v)
    ) {
      if ('ok' in v) this.setTarget(t, 'applied', null);
      else if ('fail' in v) this.setTarget(t, 'failed', v.fail);
      else this.setTarget(t, 'sent', v.wait);
    }
  }

  private pushIfOnline(t: Target, p: Payload): void {
    if (this.online(t)) this.push(t, p);
    else if (t.state === 'waiting') this.setTarget(t, 'waiting', 'offline');
  }

  private push(t: Target, p: Payload): void {
    if (t.state === 'waiting') this.setTarget(t, 'sent', null);
    this.broker.publish(`${t.prefix}/${TOPIC[p.kind]}`, p.envelope).catch((e) => {
      this.say(`${t.unit}: not sent (${(e as Error).message}); sent again when it comes online`);
    });
  }

  private online(t: Target): boolean {
    return this.view.units.get(t.unit)?.online === true;
  }

  private started(t: Target): boolean {
    return t.wave <= this.reached;
  }

  private inWave(w: number): Target[] {
    return [...this.targets.values()].filter((t) => t.wave === w);
  }

  private tally(list: Target[]): string {
    const n = new Map<string, number>();
    for (const t of list) {
      const k = t.state === 'waiting' ? 'offline' : t.state;
      n.set(k, (n.get(k) ?? 0) + 1);
    }
    return [...n].map(([k, v]) => `${v} ${k}`).join(', ');
  }

  private setTarget(t: Target, state: TargetState, detail: string | null): void {
    const at = this.clock.now();
    this.store.setTarget(this.r.id, t.unit, state, detail, at);
    Object.assign(t, { state, detail, updated: at });
    for (const w of this.waiters) w();
  }

  private setRollout(fields: Partial<Pick<Rollout, 'wave' | 'state' | 'reason'>>): void {
    this.store.update(this.r.id, fields);
    this.r = { ...this.r, ...fields };
  }

  private finish(state: Rollout['state'], reason: string | null): void {
    this.phase = 'ended';
    this.setRollout({ state, reason });
  }

  /** Resolves when `done()` holds (false), or after `ms` (true: timed out). */
  private until(done: () => boolean, ms: number): Promise<boolean> {
    if (done()) return Promise.resolve(false);
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        this.waiters.delete(check);
        timer.cancel();
        resolve(false);
      };
      const timer = this.clock.setTimeout(
        () => {
          this.waiters.delete(check);
          resolve(true);
        },
        Math.max(0, ms),
      );
      this.waiters.add(check);
    });
  }

  /** Re-checks waits after a unit came online or offline (the view changed, not a target). */
  private viewChanged(): void {
    for (const w of this.waiters) w();
  }
}
