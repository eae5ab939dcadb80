/** One action of a run (DESIGN §12). `dry`: a dry run only recorded it. */
export interface ActionTrace {
  action: string;
  ok: boolean;
  ms: number;
  error?: string;
  /** The error's catalogue code. */
  code?: string;
  dry?: true;
}

/** One matched event for one rule (DESIGN §12 "Trace line"). */
export interface Trace {
  rule: string;
  ts: number;
  event: { tag: string; ts: number };
  condition: boolean;
  skipped?: 'throttle' | 'mode' | 'disabled';
  /** A run that mode `restart` cut short. */
  cancelled?: true;
  actions: ActionTrace[];
  error?: string;
  code?: string;
}

export const TRACES_PER_RULE = 20;

const emptyAction = (): ActionTrace => ({
  action: '',
  ok: false,
  ms: 0,
  error: undefined,
  code: undefined,
  dry: undefined,
});

function copyAction(to: ActionTrace, from: ActionTrace): void {
  to.action = from.action;
  to.ok = from.ok;
  to.ms = from.ms;
  to.error = from.error;
  to.code = from.code;
  to.dry = from.dry;
}

function copyTrace(to: Trace, from: Trace): void {
  to.rule = from.rule;
  to.ts = from.ts;
  to.event.tag = from.event.tag;
  to.event.ts = from.event.ts;
  to.condition = from.condition;
  to.skipped = from.skipped;
  to.cancelled = from.cancelled;
  to.error = from.error;
  to.code = from.code;
  for (let i = 0; i < from.actions.length; i++) {
    to.actions[i] ??= emptyAction();
    copyAction(to.actions[i]!, from.actions[i]!);
  }
  if (to.actions.length !== from.actions.length) to.actions.length = from.actions.length;
}

/** A detached copy in the trace line's JSON form (unset fields left out). */
function snapshot(t: Trace): Trace {
  return JSON.parse(JSON.stringify(t)) as Trace;
}

/**
 * The last runs of one rule, newest last. The slots are allocated once and overwritten in place:
 * a busy rule set keeps 20 traces per rule without feeding the garbage collector.
 */
export class TraceRing {
  private readonly slots: Trace[] = [];
  private next = 0;

  push(t: Trace): void {
    let slot = this.slots[this.next];
    if (!slot) {
      slot = {
        rule: '',
        ts: 0,
        event: { tag: '', ts: 0 },
        condition: false,
        skipped: undefined,
        cancelled: undefined,
        actions: [],
        error: undefined,
        code: undefined,
      };
      this.slots[this.next] = slot;
    }
    copyTrace(slot, t);
    this.next = (this.next + 1) % TRACES_PER_RULE;
  }

  /** Copies of the kept traces, oldest first. */
  list(): Trace[] {
    const n = this.slots.length;
    const start = n < TRACES_PER_RULE ? 0 : this.next;
    return Array.from({ length: n }, (_, i) => snapshot(this.slots[(start + i) % n]!));
  }

  get last(): Trace | undefined {
    const n = this.slots.length;
    return n === 0 ? undefined : snapshot(this.slots[(this.next + TRACES_PER_RULE - 1) % TRACES_PER_RULE]!);
  }
}
