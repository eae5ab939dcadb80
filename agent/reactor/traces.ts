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

/**
 * A trace as it is recorded: written in place, its action entries reused from run to run, so
 * recording allocates nothing once a slot has been used. `actions` holds `count` live entries.
 */
export interface TraceSlot extends Trace {
  count: number;
}

export const TRACES_PER_RULE = 20;

const blank = (): TraceSlot => ({
  rule: '',
  ts: 0,
  event: { tag: '', ts: 0 },
  condition: false,
  skipped: undefined,
  cancelled: undefined,
  actions: [],
  count: 0,
  error: undefined,
  code: undefined,
});

/** Records one action's outcome into the trace, reusing the entry a previous run left there. */
export function recordAction(
  t: TraceSlot,
  action: string,
  ok: boolean,
  ms: number,
  error?: string,
  code?: string,
  dry?: true,
): void {
  const a = t.actions[t.count];
  if (a) {
    a.action = action;
    a.ok = ok;
    a.ms = ms;
    a.error = error;
    a.code = code;
    a.dry = dry;
  } else t.actions.push({ action, ok, ms, error, code, dry });
  t.count++;
}

function copyTrace(to: TraceSlot, from: TraceSlot): void {
  to.rule = from.rule;
  to.ts = from.ts;
  to.event.tag = from.event.tag;
  to.event.ts = from.event.ts;
  to.condition = from.condition;
  to.skipped = from.skipped;
  to.cancelled = from.cancelled;
  to.error = from.error;
  to.code = from.code;
  to.count = 0;
  for (let i = 0; i < from.count; i++) {
    const a = from.actions[i]!;
    recordAction(to, a.action, a.ok, a.ms, a.error, a.code, a.dry);
  }
}

/** A detached copy in the trace line's JSON form (unset fields left out). */
export function snapshot(t: TraceSlot): Trace {
  const { count, ...rest } = t;
  return JSON.parse(JSON.stringify({ ...rest, actions: t.actions.slice(0, count) })) as Trace;
}

/**
 * The last runs of one rule, newest last. A trace is written in place into the next of 20 slots
 * allocated once (`claim`): recording a trace copies nothing. A run that outlives its dispatch
 * (it awaits) takes its trace out of the ring (`detach`) and puts it back when it ends.
 */
export class TraceRing {
  private readonly slots: TraceSlot[] = [];
  private next = 0;

  claim(rule: string, ts: number, event: { tag: string; ts: number }, condition: boolean): TraceSlot {
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
    slot.count = 0;
    slot.error = undefined;
    slot.code = undefined;
    return slot;
  }

  /** The trace of a run that goes on past its dispatch: its own object now; its slot left empty. */
  detach(slot: TraceSlot): TraceSlot {
    const own = blank();
    copyTrace(own, slot);
    slot.rule = '';
    return own;
  }

  /** Puts a detached trace back, as the newest. */
  push(t: TraceSlot): void {
    copyTrace(this.claim(t.rule, t.ts, t.event, t.condition), t);
  }

  private kept(): TraceSlot[] {
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
