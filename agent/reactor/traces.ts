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

const blank = (): Trace => ({
  rule: '',
  ts: 0,
  event: { tag: '', ts: 0 },
  condition: false,
  skipped: undefined,
  cancelled: undefined,
  actions: [],
  error: undefined,
  code: undefined,
});

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
  to.actions = from.actions.slice();
}

/** A detached copy in the trace line's JSON form (unset fields left out). */
function snapshot(t: Trace): Trace {
  return JSON.parse(JSON.stringify(t)) as Trace;
}

/**
 * The last runs of one rule, newest last. A trace is written in place into the next of 20 slots
 * allocated once (`claim`): recording a trace copies nothing. A run that outlives its dispatch
 * (it awaits) takes its trace out of the ring (`detach`) and puts it back when it ends.
 */
export class TraceRing {
  private readonly slots: Trace[] = [];
  private next = 0;

  claim(rule: string, ts: number, event: { tag: string; ts: number }, condition: boolean): Trace {
    let slot = this.slots[this.next];
    if (!slot) {
      slot = blank();
      this.slots[this.next] = slot;
    }
    this.next = (this.next + 1) % TRACES_PER_RULE;
    slot.rule = rule;
    slot.ts = ts;
    slot.event.tag = event.tag;
    slot.event.ts = event.ts;
    slot.condition = condition;
    slot.skipped = undefined;
    slot.cancelled = undefined;
    slot.actions = [];
    slot.error = undefined;
    slot.code = undefined;
    return slot;
  }

  /** The trace of a run that goes on past its dispatch: its own object now; its slot left empty. */
  detach(slot: Trace): Trace {
    const own = blank();
    copyTrace(own, slot);
    own.event = { ...slot.event };
    slot.rule = '';
    return own;
  }

  /** Puts a detached trace back, as the newest. */
  push(t: Trace): void {
    copyTrace(this.claim(t.rule, t.ts, t.event, t.condition), t);
  }

  private kept(): Trace[] {
    const n = this.slots.length;
    const start = n < TRACES_PER_RULE ? 0 : this.next;
    return Array.from({ length: n }, (_, i) => this.slots[(start + i) % n]!).filter((t) => t.rule !== '');
  }

  /** Copies of the kept traces, oldest first. */
  list(): Trace[] {
    return this.kept().map(snapshot);
  }

  get last(): Trace | undefined {
    const t = this.kept().at(-1);
    return t && snapshot(t);
  }
}
