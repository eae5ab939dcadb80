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

export type Skip = NonNullable<Trace['skipped']>;

/** Where a trace is being written: a slot of the store. */
export type SlotId = number;

/** A rule's ring of slots in the store: `base` is its first slot, `next` the one written next; -1 once released. */
export interface Ring {
  base: number;
  next: number;
}

export const TRACES_PER_RULE = 20;
/** Actions a slot holds in its own columns; a run with more, or with a failed or dry one, keeps a list. */
const INLINE = 2;
const SKIPS: readonly (Skip | undefined)[] = [undefined, 'throttle', 'mode', 'disabled'];
// A slot's flags, in its `meta` word; the action count is above them.
const CONDITION = 1;
const CANCELLED = 2;
const FAILED = 4;
const LISTED = 8;
const SKIP_SHIFT = 4;
const SKIP_MASK = 3 << SKIP_SHIFT;
const COUNT_SHIFT = 8;
const FLAGS = (1 << COUNT_SHIFT) - 1;

/** A slot's numbers, side by side in `nums`: the trace's time, its event's time, its flags, then INLINE durations. */
const TS = 0;
const EVENT_TS = 1;
const META = 2;
const MS = 3;
const NUMS = MS + INLINE;
/** A slot's strings, side by side in `strs`: its event's tag ('' for an empty slot), then INLINE action names. */
const NAMES = 1;
const STRS = NAMES + INLINE;

/**
 * Every rule's last traces, laid out as columns, one ring of 20 slots per rule. A dispatch writes a
 * few numbers and a tag pointer into two dense arrays rather than into 20 objects per rule
 * scattered over the heap: with 1,000 rules the traces are ~1 MB of columns, not ~5 MB of
 * objects. A slot's numbers lie side by side, and so do its strings, so a run's trace is two cache
 * lines, not one per column: with 10,000 rules the traces are memory the cache does not hold.
 * Recording allocates nothing. What is rare (errors, failed or dry actions, more than two) is
 * kept beside, by slot. A run that outlives its dispatch (it awaits) moves its trace to a slot
 * outside the rings (`detach`) and back into its ring, as the newest, when it ends.
 */
export class TraceStore {
  private cap = 0;
  /** Per slot, NUMS each: times, flags and the first actions' durations (all of them succeeded, live). */
  private nums = new Float64Array(0);
  /** Per slot, STRS each: its event's tag and the first actions' names. */
  private strs: string[] = [];
  /** The actions of slots flagged LISTED, and the errors of slots flagged FAILED. */
  private readonly lists = new Map<SlotId, ActionTrace[]>();
  private readonly failures = new Map<SlotId, { error: string; code: string | undefined }>();
  private used = 0;
  private readonly freeRings: number[] = [];
  private readonly freeSlots: SlotId[] = [];

  /** The first slot of a ring for a new rule (the rule keeps the ring: `Ring`, from `next` 0). */
  ringBase(): number {
    return this.freeRings.pop() ?? this.take(TRACES_PER_RULE);
  }

  /** A rule gone: its slots are free again. */
  release(r: Ring): void {
    if (r.base < 0) return;
    for (let i = 0; i < TRACES_PER_RULE; i++) this.clear(r.base + i);
    this.freeRings.push(r.base);
    r.base = -1;
  }

  /** The next slot of a rule's ring, written with an event it matched. */
  claim(r: Ring, ts: number, event: { tag: string; ts: number }, condition: boolean): SlotId {
    const s = r.base + r.next;
    r.next = r.next === TRACES_PER_RULE - 1 ? 0 : r.next + 1;
    this.write(s, ts, event.tag, event.ts, condition);
    return s;
  }

  skip(s: SlotId, why: Skip): void {
    this.setMeta(s, (this.meta(s) & ~SKIP_MASK) | (SKIPS.indexOf(why) << SKIP_SHIFT));
  }

  private skipped(s: SlotId): Skip | undefined {
    return SKIPS[(this.meta(s) & SKIP_MASK) >> SKIP_SHIFT];
  }

  cancel(s: SlotId): void {
    this.setMeta(s, this.meta(s) | CANCELLED);
  }

  fail(s: SlotId, error: string, code: string | undefined): void {
    this.setMeta(s, this.meta(s) | FAILED);
    this.failures.set(s, { error, code });
  }

  /** Records one action's outcome. */
  action(s: SlotId, name: string, ok: boolean, ms: number, error?: string, code?: string, dry?: true): void {
    let m = this.meta(s);
    const n = m >>> COUNT_SHIFT;
    if (!(m & LISTED) && n < INLINE && ok && error === undefined && !dry) {
      this.strs[s * STRS + NAMES + n] = name;
      this.nums[s * NUMS + MS + n] = ms;
    } else {
      if (!(m & LISTED)) {
        this.lists.set(s, this.inline(s, n));
        m |= LISTED;
      }
      this.lists.get(s)!.push(entry(name, ok, ms, error, code, dry));
    }
    this.setMeta(s, (m & FLAGS) | ((n + 1) << COUNT_SHIFT));
  }

  /** The trace of a run that goes on past its dispatch, in a slot of its own; its ring slot left empty. */
  detach(s: SlotId): SlotId {
    const own = this.freeSlots.pop() ?? this.single();
    this.copy(s, own);
    this.clear(s);
    return own;
  }

  /** Puts a detached trace back into its rule's ring, as the newest; its own slot is freed. */
  putBack(r: Ring, own: SlotId): SlotId {
    const s = this.claim(r, 0, { tag: '', ts: 0 }, false);
    this.copy(own, s);
    this.free(own);
    return s;
  }

  /** A detached slot no longer wanted. */
  free(own: SlotId): void {
    this.clear(own);
    this.freeSlots.push(own);
  }

  /** A copy of a slot's trace in the trace line's JSON form (unset fields left out). */
  trace(s: SlotId, rule: string): Trace {
    const m = this.meta(s);
    const skipped = this.skipped(s);
    const failure = m & FAILED ? this.failures.get(s) : undefined;
    // Keys in the trace line's order.
    return {
      rule,
      ts: this.nums[s * NUMS + TS]!,
      event: { tag: this.strs[s * STRS]!, ts: this.nums[s * NUMS + EVENT_TS]! },
      condition: (m & CONDITION) !== 0,
      ...(skipped ? { skipped } : {}),
      ...(m & CANCELLED ? { cancelled: true as const } : {}),
      actions: m & LISTED ? this.lists.get(s)!.map((a) => ({ ...a })) : this.inline(s, m >>> COUNT_SHIFT),
      ...(failure ? { error: failure.error } : {}),
      ...(failure?.code !== undefined ? { code: failure.code } : {}),
    };
  }

  /** A rule's kept traces, oldest first. */
  list(r: Ring, rule: string): Trace[] {
    const out: Trace[] = [];
    if (r.base < 0) return out;
    for (let i = 0; i < TRACES_PER_RULE; i++) {
      const s = r.base + ((r.next + i) % TRACES_PER_RULE);
      if (this.strs[s * STRS] !== '') out.push(this.trace(s, rule));
    }
    return out;
  }

  /** A rule's newest trace. */
  last(r: Ring, rule: string): Trace | undefined {
    if (r.base < 0) return undefined;
    for (let i = 1; i <= TRACES_PER_RULE; i++) {
      const s = r.base + ((r.next - i + TRACES_PER_RULE) % TRACES_PER_RULE);
      if (this.strs[s * STRS] !== '') return this.trace(s, rule);
    }
    return undefined;
  }

  private write(s: SlotId, ts: number, tag: string, eventTs: number, condition: boolean): void {
    const n = s * NUMS;
    if (this.nums[n + META]! & (LISTED | FAILED)) this.clear(s);
    this.nums[n + TS] = ts;
    this.nums[n + EVENT_TS] = eventTs;
    this.nums[n + META] = condition ? CONDITION : 0;
    this.strs[s * STRS] = tag;
  }

  private clear(s: SlotId): void {
    const m = this.meta(s);
    if (m & LISTED) this.lists.delete(s);
    if (m & FAILED) this.failures.delete(s);
    this.setMeta(s, 0);
    this.strs[s * STRS] = '';
  }

  private copy(from: SlotId, to: SlotId): void {
    const m = this.meta(from);
    if (this.meta(to) & (LISTED | FAILED)) this.clear(to);
    this.nums.copyWithin(to * NUMS, from * NUMS, (from + 1) * NUMS);
    for (let i = 0; i < STRS; i++) this.strs[to * STRS + i] = this.strs[from * STRS + i]!;
    if (m & LISTED)
      this.lists.set(
        to,
        this.lists.get(from)!.map((a) => ({ ...a })),
      );
    if (m & FAILED) this.failures.set(to, { ...this.failures.get(from)! });
  }

  private inline(s: SlotId, n: number): ActionTrace[] {
    return Array.from({ length: n }, (_, i) => ({
      action: this.strs[s * STRS + NAMES + i]!,
      ok: true,
      ms: this.nums[s * NUMS + MS + i]!,
    }));
  }

  /** A slot outside the rings: a ring's worth is taken at once and kept in the free list. */
  private single(): SlotId {
    const base = this.take(TRACES_PER_RULE);
    for (let i = TRACES_PER_RULE - 1; i > 0; i--) this.freeSlots.push(base + i);
    return base;
  }

  /** `n` slots never used before; the columns grow by doubling. */
  private take(n: number): number {
    const base = this.used;
    this.used += n;
    if (this.used > this.cap) this.grow(Math.max(this.used, this.cap * 2, 64 * TRACES_PER_RULE));
    return base;
  }

  private grow(cap: number): void {
    const nums = new Float64Array(cap * NUMS);
    nums.set(this.nums);
    this.nums = nums;
    // Filled, not holey: the array stays of one element kind.
    this.strs = [...this.strs, ...Array<string>((cap - this.cap) * STRS).fill('')];
    this.cap = cap;
  }

  private meta(s: SlotId): number {
    return this.nums[s * NUMS + META]!;
  }

  private setMeta(s: SlotId, m: number): void {
    this.nums[s * NUMS + META] = m;
  }
}

function entry(
  action: string,
  ok: boolean,
  ms: number,
  error?: string,
  code?: string,
  dry?: true,
): ActionTrace {
  const a: ActionTrace = { action, ok, ms };
  if (error !== undefined) a.error = error;
  if (code !== undefined) a.code = code;
  if (dry) a.dry = dry;
  return a;
}
