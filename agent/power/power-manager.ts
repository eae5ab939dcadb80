import type { PowerT } from '../../schemas/power.js';
import { realClock } from '../core/clock.js';
import { within } from '../core/deadline.js';
import { fdPassingUnavailable } from '../dbus/connect.js';
import type { Part, PartContext, PowerControl, PowerStatus } from '../parts/context.js';
import { conditionFactory } from '../reactor/condition.js';
import { errors, errorText } from './errors.js';
import { type Inhibitor, Logind, type PowerAction } from './logind.js';
import { PowerPolicy, type Reading } from './policy.js';

/** The event each action is announced with. */
const EVENT = { sleep: 'sleeping', hibernate: 'hibernating', shutdown: 'shutting_down' } as const;
/** How long logind gets to answer before power control counts as unavailable. */
const CONNECT_TIMEOUT_MS = 5000;

const POWER_ACTIONS = new Set<string>(['sleep', 'hibernate', 'shutdown']);

/** A number of volts from a signal's value: `12.4`, `"12.4V"`, `{value: 12.4}`. */
function volts(v: unknown): number | undefined {
  const n =
    typeof v === 'number'
      ? v
      : typeof v === 'string'
        ? Number.parseFloat(v)
        : v !== null && typeof v === 'object' && 'value' in v
          ? volts((v as { value: unknown }).value)
          : undefined;
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

/**
 * The `power` section (DESIGN §13): the policy's decisions carried out through systemd-logind.
 * At start it takes a delay inhibitor lock; before any sleep or shutdown (its own or the system's)
 * it writes what must not be lost (the outbox's pending group, the state) and only then releases
 * the lock; after a wake it takes the lock again, says how long the unit slept, and the timers
 * start over. Without logind (no bus, no D-Bus client) the section still runs its timers and
 * says what it would do, and that it cannot.
 */
export class PowerManager implements Part, PowerControl {
  readonly name = 'power';
  readonly provides: Part['provides'] = { power: this };
  private policy?: PowerPolicy;
  private logind?: Logind;
  private unavailable?: string;
  private readonly releases: (() => void)[] = [];
  /** The action the agent itself asked logind for, so the system's signal is not announced twice. */
  private asked?: PowerAction;
  private sleptAt?: number;
  private lastAction?: { action: PowerAction; reason: string; at: number };
  private lastWake?: { at: number; slept_ms: number };
  private inhibitedNow = false;

  constructor(private readonly cx: PartContext<PowerT>) {}

  async start(): Promise<void> {
    const { cx } = this;
    const s = cx.section;
    const condition = conditionFactory(cx);
    const sleepWhen = s.sleep && condition(s.sleep.when);
    const inhibit = s.inhibit !== undefined ? condition(s.inhibit) : undefined;
    this.policy = new PowerPolicy({
      clock: cx.clock,
      settings: s,
      reading: () => this.read(),
      sleepWanted: () => sleepWhen?.({ signals: cx.signals.tree }) ?? false,
      inhibited: () => {
        this.inhibitedNow = inhibit?.(this.inhibitData()) ?? false;
        return this.inhibitedNow;
      },
      act: (action, reason) => this.act(action, reason),
      held: (action, reason) => cx.bus.emit('system/power/inhibited', { action, reason }, 'power'),
    });
    const policy = this.policy;
    this.releases.push(
      cx.signals.watch(() => policy.evaluate()),
      cx.bus.on('system/update/#', () => policy.evaluate()),
      // The starter pack's rule, and the `power` action, ask with these.
      cx.bus.on('system/power/+', (e) => {
        const action = e.tag.slice('system/power/'.length).replace(/_requested$/, '');
        if (e.tag.endsWith('_requested') && POWER_ACTIONS.has(action))
          policy.request(action as PowerAction, `requested by ${e.source}`);
      }),
    );
    policy.evaluate();
    await this.connect();
  }

  async stop(): Promise<void> {
    for (const r of this.releases.splice(0)) r();
    this.policy?.stop();
    this.logind?.close();
  }

  request(action: PowerAction, reason: string): void {
    this.policy!.request(action, reason);
  }

  async status(): Promise<PowerStatus> {
    const now = this.cx.clock.now();
    const r = this.policy?.reading;
    const next = this.policy?.next();
    let inhibitors: Inhibitor[] = [];
    if (this.logind) inhibitors = await this.logind.inhibitors().catch(() => []);
    return {
      control: this.unavailable ? `unavailable: ${this.unavailable}` : 'logind',
      voltage: r ? { volts: r.volts, age_ms: now - r.ts } : null,
      next: next ? { action: next.action, in_ms: Math.max(0, next.at - now), reason: next.reason } : null,
      inhibited: this.inhibitedNow,
      lock: this.logind?.holding ?? false,
      inhibitors,
      last_action: this.lastAction ?? null,
      last_sleep: this.sleptAt ?? null,
      last_wake: this.lastWake ?? null,
    };
  }

  private read(): Reading | undefined {
    const path = this.cx.section.voltage;
    const m = path ? this.cx.signals.byPath(path) : undefined;
    const v = m && volts(m.value);
    return m && v !== undefined ? { volts: v, ts: m.ts } : undefined;
  }

  /** What `inhibit` reads: signals, the state, whether an update installs, what the outbox holds. */
  private inhibitData() {
    const status = this.cx.status();
    return {
      signals: this.cx.signals.tree,
      updates: { installing: this.cx.ports.updates?.installing() ?? false },
      outbox: { queued: status.outbox.queued },
      cloud: { state: status.cloud.state },
    };
  }

  private async connect(): Promise<void> {
    const { cx } = this;
    try {
      const noFds = fdPassingUnavailable();
      if (noFds) throw new Error(`logind's inhibitor lock (a file descriptor) cannot be received: ${noFds}`);
      // logind is another process on the wall clock: its answer is waited for in real time.
      const late = (what: string) => () => new Error(`${what}: no answer within ${CONNECT_TIMEOUT_MS} ms`);
      this.logind = await within(
        realClock,
        CONNECT_TIMEOUT_MS,
        Logind.connect(cx.section.bus),
        late('logind'),
      );
      await this.logind.onPrepare((kind, start) => void this.prepare(kind, start));
      await within(
        realClock,
        CONNECT_TIMEOUT_MS,
        this.logind.inhibit('pitcrew writes its records to disk first'),
        late('Inhibit'),
      );
      cx.log.info('power control through logind: delay lock taken');
    } catch (e) {
      this.logind?.close();
      this.logind = undefined;
      this.unavailable = errorText(e);
      cx.log.warn(errors.POWER_UNAVAILABLE(this.unavailable).message);
    }
  }

  private act(action: PowerAction, reason: string): void {
    const { cx } = this;
    const at = cx.clock.now();
    this.lastAction = { action, reason, at };
    const r = this.policy?.reading;
    cx.bus.emit(`system/power/${EVENT[action]}`, { reason, ...(r ? { voltage: r.volts } : {}) }, 'power');
    cx.log.warn({ action, reason }, `power: ${action}`);
    if (!this.logind) {
      cx.log.error(errors.POWER_UNAVAILABLE(this.unavailable ?? 'not connected').message);
      return;
    }
    this.asked = action;
    this.logind.request(action).catch((e) => {
      this.asked = undefined;
      cx.log.error({ action }, `logind refused to ${action}: ${errorText(e)}`);
    });
  }

  /** logind's PrepareForSleep / PrepareForShutdown: write what must not be lost, then let it go on. */
  private async prepare(kind: 'sleep' | 'shutdown', start: boolean): Promise<void> {
    const { cx } = this;
    const logind = this.logind!;
    if (start) {
      const action: PowerAction = kind === 'sleep' ? 'sleep' : 'shutdown';
      if (!this.asked || (kind === 'shutdown') !== (this.asked === 'shutdown'))
        cx.bus.emit(`system/power/${EVENT[action]}`, { reason: 'requested by the system' }, 'power');
      this.sleptAt = cx.clock.now();
      await cx.flush();
      cx.log.info({ outbox: cx.status().outbox.queued }, `${kind}: records written, delay lock released`);
      logind.release();
      return;
    }
    if (kind !== 'sleep') return;
    this.asked = undefined;
    const now = cx.clock.now();
    const slept = this.sleptAt !== undefined ? now - this.sleptAt : 0;
    this.lastWake = { at: now, slept_ms: slept };
    cx.bus.emit('system/power/woke', { slept_ms: slept }, 'power');
    await logind
      .inhibit('pitcrew writes its records to disk first')
      .catch((e) => cx.log.error(`delay lock not taken again after the wake: ${errorText(e)}`));
    this.policy?.reset();
  }
}
