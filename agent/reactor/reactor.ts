import { type Cause, chainOf } from '../core/bus.js';
import { counted } from '../core/counted.js';
import { OncePer } from '../core/once-per.js';
import type { Extension } from '../core/types.js';
import { compileActions } from './actions/index.js';
import type { ActionEnv, RunData } from './actions/types.js';
import { conditionFactory } from './condition.js';
import { errors } from './errors.js';
import type { ReactorHost } from './host.js';
import { RuleRunner } from './rule.js';
import type { RuleT } from './schema.js';
import { type SlotId, type Trace, TraceStore } from './traces.js';

export interface RuleSummary {
  name: string;
  on: string[];
  enabled: boolean;
  mode: string;
  runs: number;
  skips: number;
  errors: number;
  /** A `for:` hold under way: when it started. */
  holding?: number;
  last?: Trace;
}

/** How often one rule's failures are told in the log. */
const FAILURE_REPORT_MS = 60_000;

interface Loaded {
  runner: RuleRunner;
  unsubscribe: (() => void)[];
}

/**
 * The rule engine (DESIGN §3.2). Each rule subscribes its patterns on the bus, whose tag index is
 * the rule index: an event costs only the rules whose patterns match it.
 */
export class Reactor implements Extension {
  readonly name = 'reactor';
  private loaded = new Map<string, Loaded>();
  private traceListeners: ((t: Trace) => void)[] = [];
  private started = false;
  private readonly env: ActionEnv;

  private readonly loopReports: OncePer;
  private readonly failureReports: OncePer;

  constructor(
    private readonly host: ReactorHost,
    private rules: readonly RuleT[],
    opts: { dry?: boolean; maxDepth?: number } = {},
  ) {
    const condition = conditionFactory(host);
    let last: RunData | undefined;
    const env: ActionEnv = {
      host,
      dry: opts.dry ?? false,
      traces: new TraceStore(),
      condition,
      compile: (list) => compileActions(list, env),
      failed: (rule, error, code, count) => this.failed(rule, error, code, count),
      runData: (event, match, now, own) => {
        if (!own && last && last.event === event && last.match === match && last.now === now) return last;
        const data: RunData = {
          event,
          match,
          signals: host.signals.tree,
          state: host.state.tree,
          unit: host.unit,
          now,
        };
        if (!own) last = data;
        return data;
      },
    };
    this.env = env;
    this.loopReports = new OncePer(host.clock, 10_000);
    this.failureReports = new OncePer(host.clock, FAILURE_REPORT_MS);
    host.bus.maxDepth = opts.maxDepth ?? 8;
    host.bus.onLoop = (cause, tag) => this.loop(cause, tag);
  }

  /**
   * A failed run, in the log at most once per FAILURE_REPORT_MS per rule: a rule that fails on every
   * event (a template's path never set) is seen in the unit's log, not only in its traces. A dry run
   * (replay) prints its traces instead.
   */
  private failed(rule: string, error: string, code: string | undefined, count: number): void {
    if (this.env.dry || !this.failureReports.due(rule)) return;
    this.host.log.warn(
      { rule, code, errors: count },
      `rule ${rule} failed: ${error} (${counted(count, 'failure')} so far; its runs: pitcrew trace ${rule})`,
    );
  }

  /** A rule loop, reported (log and `system/reactor/loop`) at most once every 10 s per rule. */
  private loop(cause: Cause, tag: string): void {
    if (!this.loopReports.due(cause.rule)) return;
    const chain = chainOf(cause);
    this.host.log.warn({ rule: cause.rule, chain, tag }, `rule loop: ${chain.join(' → ')} → ${tag} dropped`);
    this.host.bus.emit('system/reactor/loop', { rule: cause.rule, chain, tag }, 'reactor');
  }

  async start(): Promise<void> {
    this.started = true;
    this.load(this.rules);
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const l of this.loaded.values()) this.unload(l);
    this.loaded.clear();
  }

  /** Every trace as it is written (replay prints them). */
  onTrace(fn: (t: Trace) => void): () => void {
    this.traceListeners = [...this.traceListeners, fn];
    return () => {
      this.traceListeners = this.traceListeners.filter((f) => f !== fn);
    };
  }

  /** Listeners get a copy: the recorded trace is reused by a later run. */
  private readonly emitTrace = (slot: SlotId, rule: string): void => {
    const listeners = this.traceListeners;
    if (listeners.length === 0) return;
    const copy = this.env.traces.trace(slot, rule);
    for (let i = 0; i < listeners.length; i++) listeners[i]!(copy);
  };

  /**
   * Swaps in a new rule set. Unchanged rules keep their runner (and `for:` timers); the swap is one
   * synchronous step, so it falls between two events: none is lost or handled twice.
   */
  load(rules: readonly RuleT[]): void {
    this.rules = rules;
    if (!this.started) return;
    const next = new Map<string, Loaded>();
    for (const rule of rules) {
      const have = this.loaded.get(rule.name);
      // The same object when the rule says what it said before (the config memo), else compared as written.
      if (have && (have.runner.rule === rule || have.runner.def === JSON.stringify(rule))) {
        next.set(rule.name, have);
        this.loaded.delete(rule.name);
        continue;
      }
      const runner = new RuleRunner(rule, this.env, this.emitTrace);
      runner.restore();
      const unsubscribe = rule.on.map((pattern) => this.host.bus.subscribe(pattern, runner));
      next.set(rule.name, { runner, unsubscribe });
    }
    for (const old of this.loaded.values()) this.unload(old);
    this.loaded = next;
  }

  private unload(l: Loaded): void {
    for (const off of l.unsubscribe) off();
    l.runner.dispose();
  }

  list(): RuleSummary[] {
    return [...this.loaded.values()].map(({ runner }) => ({
      name: runner.rule.name,
      on: runner.rule.on,
      enabled: runner.rule.enabled,
      mode: runner.rule.mode,
      runs: runner.runs,
      skips: runner.skips,
      errors: runner.errors,
      ...(runner.holding !== undefined ? { holding: runner.holding } : {}),
      ...(runner.lastTrace ? { last: runner.lastTrace } : {}),
    }));
  }

  /** The last traces of a rule, oldest first. */
  traces(name: string): Trace[] {
    const l = this.loaded.get(name);
    if (!l) throw errors.RULE_UNKNOWN(name, [...this.loaded.keys()]);
    return l.runner.traceList();
  }
}
