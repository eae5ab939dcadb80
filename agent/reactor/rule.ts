import type { Event, Match } from '../core/bus.js';
import type { Timer } from '../core/clock.js';
import type { Condition } from '../core/types.js';
import { errorCode, errorText } from '../errors.js';
import type { ActionEnv, CompiledAction, Run, RunData } from './actions/types.js';
import { execute } from './execute.js';
import type { RuleT } from './schema.js';
import { type Trace, TraceRing } from './traces.js';

/** A `for:` hold as persisted, so it survives restarts and reloads of an unchanged rule. */
interface Hold {
  /** The rule's definition it belongs to: a changed rule starts afresh. */
  def: string;
  since: number;
  event: Event;
  match: Match;
  fired: boolean;
}

interface Pending {
  data: RunData;
  actions: CompiledAction[];
  trace: Trace;
}

function skip(t: Trace, why: Trace['skipped']): Trace {
  t.skipped = why;
  return t;
}

/**
 * One reactor rule (DESIGN §3.2, §12): condition, `for` (held continuously; fires once, re-arms
 * after the condition was false), `throttle`, `debounce`, modes `single | restart | queued |
 * parallel` with `max`, `else`, `enabled`. Every matched event gets a trace.
 */
export class RuleRunner {
  readonly traces = new TraceRing();
  readonly def: string;
  private readonly when?: Condition;
  private readonly doActions: CompiledAction[];
  private readonly elseActions: CompiledAction[];
  private readonly running = new Set<Run>();
  private readonly queue: Pending[] = [];
  private lastStart?: number;
  private lastEvent?: Event;
  private hold?: Hold;
  private holdTimer?: Timer;
  private debounceTimer?: Timer;
  runs = 0;
  private readonly source: string;

  constructor(
    readonly rule: RuleT,
    private readonly env: ActionEnv,
    private readonly onTrace: (t: Trace) => void,
  ) {
    this.def = JSON.stringify(rule);
    this.source = `rule:${rule.name}`;
    if (rule.when !== undefined) this.when = env.condition(rule.when);
    this.doActions = env.compile(rule.do);
    this.elseActions = env.compile(rule.else);
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
    if (!saved.fired) this.armHold(saved.since + this.rule.for - this.env.host.clock.now());
  }

  dispose(): void {
    this.holdTimer?.cancel();
    this.debounceTimer?.cancel();
    for (const r of this.running) this.cancel(r);
    this.queue.length = 0;
  }

  /** Pending `for:` hold, if any: when it started. */
  get holding(): number | undefined {
    return this.hold && !this.hold.fired ? this.hold.since : undefined;
  }

  handle(event: Event, match: Match): void {
    // One event that matches two of the rule's patterns is still one event.
    if (event === this.lastEvent) return;
    this.lastEvent = event;
    if (!this.rule.enabled) {
      this.trace(this.newTrace(event, false, this.env.host.bus.now(), 'disabled'));
      return;
    }
    if (this.rule.debounce > 0) {
      this.debounceTimer?.cancel();
      this.debounceTimer = this.env.host.clock.setTimeout(
        () => this.evaluate(event, match),
        this.rule.debounce,
      );
      return;
    }
    this.evaluate(event, match);
  }

  private data(event: Event, match: Match, now: number): RunData {
    const h = this.env.host;
    return { event, match, signals: h.signals.tree, state: h.state.tree, unit: h.unit, now };
  }

  private newTrace(event: Event, condition: boolean, now: number, skipped?: Trace['skipped']): Trace {
    // Every field always present (undefined ones vanish in JSON): one object shape, built fast.
    return {
      rule: this.rule.name,
      ts: now,
      event: { tag: event.tag, ts: event.ts },
      condition,
      skipped,
      cancelled: undefined,
      actions: [],
      error: undefined,
      code: undefined,
    };
  }

  private trace(t: Trace): void {
    this.traces.push(t);
    this.onTrace(t);
  }

  private evaluate(event: Event, match: Match): void {
    const now = this.env.host.bus.now();
    const data = this.data(event, match, now);
    let condition: boolean;
    try {
      condition = this.when ? this.when(data) : true;
    } catch (e) {
      const t = this.newTrace(event, false, now);
      t.error = `condition: ${errorText(e)}`;
      t.code = errorCode(e);
      this.trace(t);
      return;
    }
    if (this.rule.for > 0) {
      this.forRule(event, match, condition, now);
      return;
    }
    const actions = condition ? this.doActions : this.elseActions;
    const trace = this.newTrace(event, condition, now);
    if (actions.length === 0) this.trace(trace);
    else this.start({ data, actions, trace }, now);
  }

  private forRule(event: Event, match: Match, condition: boolean, now: number): void {
    const state = this.env.host.state.internal;
    if (!condition) {
      this.holdTimer?.cancel();
      if (this.hold) state.delete(this.key);
      this.hold = undefined;
      const trace = this.newTrace(event, false, now);
      if (this.elseActions.length)
        this.start({ data: this.data(event, match, now), actions: this.elseActions, trace }, now);
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
        this.start({ data: this.data(hold.event, hold.match, now), actions: this.doActions, trace }, now);
      },
      Math.max(0, ms),
    );
  }

  private start(p: Pending, now: number): void {
    if (this.lastStart !== undefined && this.rule.throttle > 0 && now < this.lastStart + this.rule.throttle) {
      this.trace(skip(p.trace, 'throttle'));
      return;
    }
    const busy = this.running.size > 0;
    switch (this.rule.mode) {
      case 'single':
        if (busy) {
          this.trace(skip(p.trace, 'mode'));
          return;
        }
        break;
      case 'restart':
        for (const r of this.running) this.cancel(r);
        break;
      case 'queued':
        if (busy) {
          if (this.queue.length + this.running.size >= this.rule.max) this.trace(skip(p.trace, 'mode'));
          else this.queue.push(p);
          return;
        }
        break;
      case 'parallel':
        if (this.running.size >= this.rule.max) {
          this.trace(skip(p.trace, 'mode'));
          return;
        }
        break;
    }
    this.launch(p, now);
  }

  private cancel(r: Run): void {
    r.cancelled = true;
    r.onCancel?.();
  }

  /** Runs actions; a run that finishes synchronously (the usual case) never enters `running`. */
  private launch(p: Pending, now: number): void {
    this.lastStart = now;
    this.runs++;
    const event = p.data.event as Event;
    const parent = this.env.host.bus.causeOf(event);
    const cause = { depth: (parent?.depth ?? 0) + 1, rule: this.rule.name, parent };
    const run: Run = { data: p.data, cause, actions: p.trace.actions, cancelled: false, source: this.source };
    let out: unknown;
    try {
      out = execute(run, p.actions, this.env);
    } catch (e) {
      this.finish(p.trace, e);
      return;
    }
    if (!(out instanceof Promise)) {
      this.finish(p.trace);
      return;
    }
    this.running.add(run);
    const settle = (error?: unknown) => {
      this.running.delete(run);
      this.finish(p.trace, error);
      const next = this.queue.shift();
      if (next) this.launch(next, this.env.host.clock.now());
    };
    out.then(() => {
      if (run.cancelled) p.trace.cancelled = true;
      settle();
    }, settle);
  }

  private finish(trace: Trace, error?: unknown): void {
    if (error !== undefined) {
      trace.error = errorText(error);
      trace.code = errorCode(error);
    }
    this.trace(trace);
  }
}
