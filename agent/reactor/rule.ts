import type { Cause, Event, Handler, Match } from '../core/bus.js';
import { ageOf, type Timer } from '../core/clock.js';
import type { Condition } from '../core/types.js';
import type { ActionEnv, CompiledAction, Run, RunData } from './actions/types.js';
import { errorCode, errorText } from './errors.js';
import { execute } from './execute.js';
import type { RuleT } from './schema.js';
import type { Ring, Skip, SlotId, Trace } from './traces.js';

/** A `for:` hold as persisted, so it survives restarts and reloads of an unchanged rule. */
interface Hold {
  /** The rule's definition it belongs to: a changed rule starts afresh. */
  def: string;
  since: number;
  event: Event;
  match: Match;
  fired: boolean;
}

/** A run waiting in mode `queued`. */
interface Pending {
  data: RunData;
  actions: CompiledAction[];
  /** Detached from the ring. */
  trace: SlotId;
}

/**
 * One reactor rule (DESIGN §3.2, §12): condition, `for` (held continuously; fires once, re-arms
 * after the condition was false), `throttle`, `debounce`, modes `single | restart | queued |
 * parallel` with `max`, `else`, `enabled`. Every matched event gets a trace.
 */
export class RuleRunner implements Handler, Ring {
  // What a dispatch reads comes first, in the order it reads it: with 10,000 rules a matched rule is
  // memory the cache no longer holds, and these fields lie together at the runner's start (V8 lays
  // out a class's fields in the order they are declared).
  /** One pattern, enabled, no debounce and no `for`: an event goes straight to the condition. */
  private readonly direct: boolean;
  private readonly env: ActionEnv;
  private readonly when?: Condition;
  private readonly doActions: CompiledAction[];
  private readonly elseActions: CompiledAction[];
  /** Its ring of slots in the reactor's trace store, kept in the runner: one object fewer per dispatch. */
  base: number;
  next = 0;
  private readonly throttle: number;
  private readonly mode: RuleT['mode'];
  /** Runs that await; made with the first, as most rules' runs end within their dispatch. */
  private running?: Set<Run>;
  /** Counted in place for status and metrics: runs started, events skipped (throttle, mode, disabled), runs that failed. */
  runs = 0;
  /** The cause of a run started by an outside event, the common case: made once. */
  private readonly rootCause: Cause;
  private readonly source: string;
  private readonly onTrace: (slot: SlotId, rule: string) => void;
  private readonly name: string;
  /** Its actions write into the run's data (`result`): it cannot share the dispatch's. */
  private readonly ownData: boolean;
  /** When its last run started; kept only for a throttle (a number written per run is a heap number). */
  private lastStart = Number.NEGATIVE_INFINITY;
  skips = 0;
  errors = 0;
  readonly rule: RuleT;
  readonly def: string;
  private readonly enabled: boolean;
  private readonly debounce: number;
  private readonly holdFor: number;
  private readonly patterns: number;
  private readonly queue: Pending[] = [];
  /**
   * The last event, for a rule of more than one pattern (one event that matches two of them is
   * still one event). A rule of one pattern keeps none: a reference from each rule to its last
   * event kept that event and its data alive into the old generation, and each such write cost a
   * remembered-set entry.
   */
  private lastEvent?: Event;
  private hold?: Hold;
  private holdTimer?: Timer;
  private debounceTimer?: Timer;

  constructor(rule: RuleT, env: ActionEnv, onTrace: (slot: SlotId, rule: string) => void) {
    this.env = env;
    this.base = env.traces.ringBase();
    this.throttle = rule.throttle;
    this.mode = rule.mode;
    this.rootCause = { depth: 1, rule: rule.name, parent: undefined };
    this.source = `rule:${rule.name}`;
    this.onTrace = onTrace;
    this.name = rule.name;
    this.rule = rule;
    this.def = JSON.stringify(rule);
    this.enabled = rule.enabled;
    this.debounce = rule.debounce;
    this.holdFor = rule.for;
    this.patterns = rule.on.length;
    this.direct = this.patterns === 1 && this.enabled && this.debounce <= 0 && this.holdFor <= 0;
    if (rule.when !== undefined) this.when = env.condition(rule.when);
    this.doActions = env.compile(rule.do);
    this.elseActions = env.compile(rule.else);
    this.ownData = [...this.doActions, ...this.elseActions].some((a) => a.writesResult);
  }

  private get key(): string {
    return `reactor/for/${this.rule.name}`;
  }

  /** Picks up a `for:` hold persisted by an earlier run of the same rule. */
  restore(): void {
    if (this.rule.for <= 0) return;
    const saved = this.env.host.state.internal.get(this.key) as Hold | undefined;
    if (!saved || saved.def !== this.def) {
      if (saved) this.env.host.state.internal.delete(this.key);
      return;
    }
    this.hold = saved;
    if (saved.fired) return;
    // Begun after now (the clock set back since): how long it held is not known, so it waits its whole time again.
    const now = this.env.host.clock.now();
    this.armHold(saved.since > now ? this.rule.for : saved.since + this.rule.for - now);
  }

  dispose(): void {
    this.holdTimer?.cancel();
    this.debounceTimer?.cancel();
    for (const r of this.running ?? []) this.cancel(r);
    for (const p of this.queue) this.env.traces.free(p.trace);
    this.queue.length = 0;
    this.env.traces.release(this);
  }

  /** Its kept traces, oldest first. */
  traceList(): Trace[] {
    return this.env.traces.list(this, this.name);
  }

  get lastTrace(): Trace | undefined {
    return this.env.traces.last(this, this.name);
  }

  /** Pending `for:` hold, if any: when it started. */
  get holding(): number | undefined {
    return this.hold && !this.hold.fired ? this.hold.since : undefined;
  }

  handle(event: Event, match: Match): void {
    if (this.direct) {
      this.evaluate(event, match);
      return;
    }
    if (this.patterns > 1) {
      if (event === this.lastEvent) return;
      this.lastEvent = event;
    }
    if (!this.enabled) {
      this.trace(this.newTrace(event, false, this.env.host.bus.now(), 'disabled'));
      return;
    }
    if (this.debounce > 0) {
      this.debounceTimer?.cancel();
      this.debounceTimer = this.env.host.clock.setTimeout(() => this.evaluate(event, match), this.debounce);
      return;
    }
    this.evaluate(event, match);
  }

  /**
   * What conditions and actions read. Rules that only read it share one per dispatch; a rule whose
   * actions write `result` (call, exec) gets its own.
   */
  private data(event: Event, match: Match, now: number): RunData {
    return this.env.runData(event, match, now, this.ownData);
  }

  private newTrace(event: Event, condition: boolean, now: number, skipped?: Skip): SlotId {
    const t = this.env.traces.claim(this, now, event, condition);
    if (skipped) this.skip(t, skipped);
    return t;
  }

  private skip(t: SlotId, why: Skip): SlotId {
    this.env.traces.skip(t, why);
    this.skips++;
    return t;
  }

  private trace(t: SlotId): void {
    this.onTrace(t, this.name);
  }

  private evaluate(event: Event, match: Match): void {
    const now = this.env.host.bus.now();
    const data = this.data(event, match, now);
    let condition: boolean;
    try {
      condition = this.when ? this.when(data) : true;
    } catch (e) {
      const t = this.newTrace(event, false, now);
      this.fail(t, `condition: ${errorText(e)}`, errorCode(e));
      this.trace(t);
      return;
    }
    if (this.holdFor > 0) {
      this.forRule(event, match, condition, now);
      return;
    }
    const actions = condition ? this.doActions : this.elseActions;
    const trace = this.newTrace(event, condition, now);
    if (actions.length === 0) this.trace(trace);
    else this.start(data, actions, trace, now);
  }

  private forRule(event: Event, match: Match, condition: boolean, now: number): void {
    const state = this.env.host.state.internal;
    if (!condition) {
      this.holdTimer?.cancel();
      if (this.hold) state.delete(this.key);
      this.hold = undefined;
      const trace = this.newTrace(event, false, now);
      if (this.elseActions.length) this.start(this.data(event, match, now), this.elseActions, trace, now);
      else this.trace(trace);
      return;
    }
    if (!this.hold) {
      this.hold = { def: this.def, since: now, event, match, fired: false };
      state.set(this.key, this.hold);
      this.armHold(this.rule.for);
    }
    // Held, or fired and waiting for the condition to go false: nothing runs now.
    this.trace(this.newTrace(event, true, now));
  }

  private armHold(ms: number): void {
    this.holdTimer?.cancel();
    this.holdTimer = this.env.host.clock.setTimeout(
      () => {
        const hold = this.hold;
        if (!hold) return;
        hold.fired = true;
        this.env.host.state.internal.set(this.key, hold);
        // The run is traced with the event that started the hold (DESIGN §12).
        const now = this.env.host.clock.now();
        const trace = this.newTrace(hold.event, true, now);
        this.start(this.data(hold.event, hold.match, now), this.doActions, trace, now);
      },
      Math.max(0, ms),
    );
  }

  private start(data: RunData, actions: CompiledAction[], trace: SlotId, now: number): void {
    if (this.throttle > 0 && ageOf(now, this.lastStart) < this.throttle) {
      this.trace(this.skip(trace, 'throttle'));
      return;
    }
    const running = this.running?.size ?? 0;
    switch (this.mode) {
      case 'single':
        if (running > 0) {
          this.trace(this.skip(trace, 'mode'));
          return;
        }
        break;
      case 'restart':
        for (const r of this.running ?? []) this.cancel(r);
        break;
      case 'queued':
        if (running > 0) {
          if (this.queue.length + running >= this.rule.max) this.trace(this.skip(trace, 'mode'));
          // It waits past this dispatch: its data and trace must outlive it.
          else this.queue.push({ data: { ...data }, actions, trace: this.env.traces.detach(trace) });
          return;
        }
        break;
      case 'parallel':
        if (running >= this.rule.max) {
          this.trace(this.skip(trace, 'mode'));
          return;
        }
        break;
    }
    this.launch(data, actions, trace, now, false);
  }

  private cancel(r: Run): void {
    r.cancelled = true;
    r.onCancel?.();
  }

  /**
   * Runs actions; a run that finishes synchronously (the usual case) never enters `running`, and
   * its trace stays where it was written. `detached`: the trace is already out of the ring.
   */
  private launch(
    data: RunData,
    actions: CompiledAction[],
    trace: SlotId,
    now: number,
    detached: boolean,
  ): void {
    if (this.throttle > 0) this.lastStart = now;
    this.runs++;
    const parent = this.env.host.bus.causeOf(data.event as Event);
    const cause = parent ? { depth: parent.depth + 1, rule: this.name, parent } : this.rootCause;
    const run: Run = { data, cause, trace, cancelled: false, source: this.source };
    let out: unknown;
    try {
      out = execute(run, actions, this.env);
    } catch (e) {
      this.finish(trace, detached, e);
      return;
    }
    if (!(out instanceof Promise)) {
      this.finish(trace, detached);
      return;
    }
    // The run awaits: its trace and data leave the ring and the dispatch.
    const own = detached ? trace : this.env.traces.detach(trace);
    run.trace = own;
    if (!detached && !this.ownData) run.data = { ...data };
    this.running ??= new Set();
    const running = this.running;
    running.add(run);
    const settle = (error?: unknown) => {
      running.delete(run);
      this.finish(own, true, error);
      const next = this.queue.shift();
      if (next) this.launch(next.data, next.actions, next.trace, this.env.host.clock.now(), true);
    };
    out.then(() => {
      if (run.cancelled) this.env.traces.cancel(own);
      settle();
    }, settle);
  }

  private fail(trace: SlotId, error: string, code: string | undefined): void {
    this.errors++;
    this.env.traces.fail(trace, error, code);
    this.env.failed(this.name, error, code, this.errors);
  }

  private finish(trace: SlotId, detached: boolean, error?: unknown): void {
    const traces = this.env.traces;
    if (error !== undefined) this.fail(trace, errorText(error), errorCode(error));
    if (!detached) this.trace(trace);
    // A run that ended after its rule was unloaded has no ring to go back to: told, then freed.
    else if (this.base < 0) {
      this.trace(trace);
      traces.free(trace);
    } else this.trace(traces.putBack(this, trace));
  }
}
