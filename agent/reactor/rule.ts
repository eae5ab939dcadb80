import type { RuleT } from '../../schemas/reactor.js';
import type { Event, Match } from '../core/bus.js';
import type { Timer } from '../core/clock.js';
import { errorText } from '../core/pipeline.js';
import {
  type ActionEnv,
  type CompiledAction,
  compileActions,
  execute,
  type Run,
  type RunData,
} from './actions.js';
import { type Compiled, compile, truthy } from './logic.js';
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
  event: Event;
  match: Match;
  actions: CompiledAction[];
  trace: Trace;
}

/**
 * One reactor rule (DESIGN §3.2, §12): condition, `for` (held continuously; fires once, re-arms
 * after the condition was false), `throttle`, `debounce`, modes `single | restart | queued |
 * parallel` with `max`, `else`, `enabled`. Every matched event gets a trace.
 */
export class RuleRunner {
  readonly traces = new TraceRing();
  readonly def: string;
  private readonly when?: Compiled;
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

  constructor(
    readonly rule: RuleT,
    private readonly env: ActionEnv,
    private readonly onTrace: (t: Trace) => void,
  ) {
    const host = env.host;
    this.def = JSON.stringify(rule);
    if (rule.when !== undefined) {
      this.when = compile(rule.when, {
        changedAt: (p) => host.signals.byPath(p)?.changedAt,
        now: () => host.clock.now(),
        timezone: host.unit.timezone,
      });
    }
    this.doActions = compileActions(rule.do, env);
    this.elseActions = compileActions(rule.else, env);
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
      this.trace(this.newTrace(event, false, 'disabled'));
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

  private data(event: Event, match: Match): RunData {
    const h = this.env.host;
    return { event, match, signals: h.signals.tree, state: h.state.tree, unit: h.unit, now: h.clock.now() };
  }

  private newTrace(event: Event, condition: boolean, skipped?: Trace['skipped']): Trace {
    return {
      rule: this.rule.name,
      ts: this.env.host.clock.now(),
      event: { tag: event.tag, ts: event.ts },
      condition,
      ...(skipped ? { skipped } : {}),
      actions: [],
    };
  }

  private trace(t: Trace): void {
    this.traces.push(t);
    this.onTrace(t);
  }

  private evaluate(event: Event, match: Match): void {
    let condition: boolean;
    try {
      condition = this.when ? truthy(this.when(this.data(event, match))) : true;
    } catch (e) {
      this.trace({ ...this.newTrace(event, false), error: `condition: ${errorText(e)}` });
      return;
    }
    if (this.rule.for > 0) {
      this.forRule(event, match, condition);
      return;
    }
    const actions = condition ? this.doActions : this.elseActions;
    if (actions.length === 0) this.trace(this.newTrace(event, condition));
    else this.start(event, match, actions, this.newTrace(event, condition));
  }

  private forRule(event: Event, match: Match, condition: boolean): void {
    const state = this.env.host.state.internal;
    if (!condition) {
      this.holdTimer?.cancel();
      if (this.hold) state.delete(this.key);
      this.hold = undefined;
      if (this.elseActions.length) this.start(event, match, this.elseActions, this.newTrace(event, false));
      else this.trace(this.newTrace(event, false));
      return;
    }
    if (!this.hold) {
      this.hold = { def: this.def, since: this.env.host.clock.now(), event, match, fired: false };
      state.set(this.key, this.hold);
      this.armHold(this.rule.for);
    }
    // Held, or fired and waiting for the condition to go false: nothing runs now.
    this.trace(this.newTrace(event, true));
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
        this.start(hold.event, hold.match, this.doActions, this.newTrace(hold.event, true));
      },
      Math.max(0, ms),
    );
  }

  private start(event: Event, match: Match, actions: CompiledAction[], trace: Trace): void {
    const now = this.env.host.clock.now();
    if (this.lastStart !== undefined && this.rule.throttle > 0 && now < this.lastStart + this.rule.throttle) {
      this.trace({ ...trace, skipped: 'throttle' });
      return;
    }
    const busy = this.running.size > 0;
    switch (this.rule.mode) {
      case 'single':
        if (busy) {
          this.trace({ ...trace, skipped: 'mode' });
          return;
        }
        break;
      case 'restart':
        for (const r of this.running) this.cancel(r);
        break;
      case 'queued':
        if (busy) {
          if (this.queue.length + this.running.size >= this.rule.max)
            this.trace({ ...trace, skipped: 'mode' });
          else this.queue.push({ event, match, actions, trace });
          return;
        }
        break;
      case 'parallel':
        if (this.running.size >= this.rule.max) {
          this.trace({ ...trace, skipped: 'mode' });
          return;
        }
        break;
    }
    this.launch({ event, match, actions, trace });
  }

  private cancel(r: Run): void {
    r.cancelled = true;
    r.cancelWait?.();
  }

  private launch(p: Pending): void {
    this.lastStart = this.env.host.clock.now();
    this.runs++;
    const run: Run = {
      data: this.data(p.event, p.match),
      actions: p.trace.actions,
      cancelled: false,
      source: `rule:${this.rule.name}`,
    };
    const done = (error?: unknown) => {
      this.running.delete(run);
      this.trace(error === undefined ? p.trace : { ...p.trace, error: errorText(error) });
      const next = this.queue.shift();
      if (next) this.launch(next);
    };
    this.running.add(run);
    let out: unknown;
    try {
      out = execute(run, p.actions, this.env);
    } catch (e) {
      done(e);
      return;
    }
    if (out instanceof Promise) out.then(() => done(), done);
    else done();
  }
}
