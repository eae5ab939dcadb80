import type * as z from 'zod';
import type { Event as EventSchema } from '../../schemas/wire.js';
import { asyncScope } from './async-scope.js';
import { type Clock, realClock } from './clock.js';
import { errors } from './errors.js';
import type { BuiltinEvents, BuiltinTag } from './events.js';
import { literalSegments, parsePattern } from './patterns.js';

export type Event = z.infer<typeof EventSchema>;
/** A tag seen: its segments, and how many events it has had. */
interface TagEntry {
  segs: readonly string[];
  n: number;
  /** The subscriptions the tag reaches, in dispatch order, their listeners, and what each matched: as of `version`. */
  subs: Sub[];
  fns: Listener[];
  /** Each listener's `this`: the handler object it is the method of, or undefined. */
  selves: unknown[];
  matches: Match[];
  version: number;
}

/** What a wildcard subscription captured: `+` segments, then what `#` matched; or regex groups. */
export type Match = readonly string[];
export type Listener = (event: Event, match: Match) => void;
/** An object that takes events through its own method: the bus calls `handle` on it, no closure between. */
export interface Handler {
  handle(event: Event, match: Match): void;
}

/** An event of one of the agent's own tags, its data as the map says. */
export type BuiltinEvent<K extends BuiltinTag> = Omit<Event, 'tag' | 'data'> & {
  tag: K;
  data: BuiltinEvents[K];
};

/** Why an event happened: the rule run that emitted it, and what caused that run. */
export interface Cause {
  /** 1 for a run started by an outside event, one more for each rule in between. */
  depth: number;
  rule: string;
  parent?: Cause;
}

/** The rule names along a chain of causes, first to last. */
export function chainOf(c: Cause): string[] {
  const out: string[] = [];
  for (let x: Cause | undefined = c; x; x = x.parent) out.push(x.rule);
  return out.reverse();
}

/** Where an event keeps its cause: a symbol key, so JSON (`--events`, traces) never shows it. */
const CAUSE = Symbol('cause');

/** Carries a rule run's cause across its awaits (`call`, `return`), to what the awaited code emits. */
const causeScope = asyncScope<Cause>();

/** An event held back by `hold`, emitted later. */
export interface HeldEvent {
  tag: string;
  data: Record<string, unknown>;
  source: string;
}

interface Sub {
  fn: Listener;
  self: unknown;
  active: boolean;
}

interface ReSub {
  re: RegExp;
  sub: Sub;
}

interface TrieNode {
  exact: Map<string, TrieNode>;
  plus?: TrieNode;
  /** Subscriptions ending in `#` at this node: they match here and everything below. */
  hash: Sub[];
  /** Subscriptions ending exactly at this node. */
  here: Sub[];
}

/** Where a walk puts each subscription a tag reaches, with what it matched. */
type Reach = (sub: Sub, match: Match) => void;

const MAX_CACHED_TAGS = 10_000;
const NO_MATCH: Match = Object.freeze([]) as Match;
const node = (): TrieNode => ({ exact: new Map(), hash: [], here: [] });

/**
 * Synchronous event bus. Subscriptions live in a trie keyed by tag segment, so an event costs
 * a walk of its own segments, whatever the number of subscriptions; `re:` patterns are the only
 * linear part. A throwing listener is reported and never stops the others.
 */
export class Bus {
  private readonly root = node();
  /** `re:` patterns by the whole segments every match starts with: segment count → prefix → patterns. */
  private readonly reIndex = new Map<number, Map<string, ReSub[]>>();
  /** `re:` patterns with no such prefix: tried on every event. */
  private readonly reLoose: ReSub[] = [];
  private emitted = 0;
  /** Changes with every subscribe and unsubscribe: a tag's dispatch list is found again after one. */
  private version = 0;
  private instant: number | undefined;
  private readonly split = new Map<string, TagEntry>();
  /** Events counted per first tag segment for tags no longer in `split`. */
  private readonly folded = new Map<string, number>();
  private holding?: HeldEvent[];
  private current?: Cause;
  private carried = false;
  /** Longest chain of rule runs causing each other; past it an event is dropped (a rule loop). */
  maxDepth = 8;
  /** Told of each event dropped by the loop guard. */
  onLoop: (cause: Cause, tag: string) => void = () => {};

  constructor(
    private readonly clock: Clock = realClock,
    private readonly onListenerError: (err: unknown, event: Event) => void = () => {},
  ) {}

  get count(): number {
    return this.emitted;
  }

  /** Listens to one of the agent's own tags, its payload typed by the map (DESIGN §4). */
  on<K extends BuiltinTag>(tag: K, fn: (event: BuiltinEvent<K>, match: Match) => void): () => void;
  /** Listens to a pattern (wildcards, `re:`) or a user tag. */
  on<P extends string>(pattern: P extends BuiltinTag ? never : P, fn: Listener): () => void;
  on(pattern: string, listener: (event: never, match: Match) => void): () => void {
    return this.add(pattern, { fn: listener as Listener, self: undefined, active: true });
  }

  /**
   * Listens to a pattern with a handler object's `handle`: many handlers of one class (a reactor's
   * rules) share that one method, where closures would add an object and a context each to reach.
   */
  subscribe(pattern: string, handler: Handler): () => void {
    return this.add(pattern, { fn: handler.handle as Listener, self: handler, active: true });
  }

  private add(pattern: string, sub: Sub): () => void {
    const parsed = parsePattern(pattern);
    if (parsed.kind === 're') {
      const entry: ReSub = { re: parsed.re, sub };
      const prefix = literalSegments(parsed.re);
      let list = this.reLoose;
      if (prefix) {
        const depth = prefix.split('/').length;
        const byPrefix = this.reIndex.get(depth) ?? this.reIndex.set(depth, new Map()).get(depth)!;
        list = byPrefix.get(prefix) ?? byPrefix.set(prefix, []).get(prefix)!;
      }
      list.push(entry);
      this.version++;
      return () => {
        sub.active = false;
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
        this.version++;
      };
    }
    let n = this.root;
    let list: Sub[] = n.here;
    for (const seg of parsed.segments) {
      if (seg === '#') {
        list = n.hash;
        break;
      }
      if (seg === '+') n = n.plus ??= node();
      else {
        const child = n.exact.get(seg) ?? node();
        n.exact.set(seg, child);
        n = child;
      }
      list = n.here;
    }
    list.push(sub);
    this.version++;
    return () => {
      sub.active = false;
      const i = list.indexOf(sub);
      if (i >= 0) list.splice(i, 1);
      this.version++;
    };
  }

  /**
   * The time now. While a dispatch is under way it is the time that dispatch began: an event and
   * everything its listeners do synchronously share one instant (and one clock read).
   */
  now(): number {
    return this.instant ?? this.clock.now();
  }

  /**
   * Builds the event (`ts` from the clock) and dispatches it (or holds it, inside `hold`). An event
   * emitted by a rule run carries the run's cause; one past `maxDepth` is dropped: it throws
   * PITCREW_REACTOR_LOOP, so the run's trace says why.
   */
  /** Emits one of the agent's own tags: its payload must be the map's (DESIGN §4). */
  emit<K extends BuiltinTag>(tag: K, data: BuiltinEvents[K], source?: string): Event;
  /** Emits a user tag (or one only known at run time). */
  emit<T extends string>(
    tag: T extends BuiltinTag ? never : T,
    data?: Record<string, unknown>,
    source?: string,
  ): Event;
  emit(tag: string, data: Record<string, unknown> = {}, source = 'agent'): Event {
    if (this.holding) {
      this.holding.push({ tag, data, source });
      return { tag, data, ts: this.now(), source };
    }
    // The async-carried cause is looked up only once some run has carried one (call, return).
    const cause = this.current ?? (this.carried ? causeScope.getStore() : undefined);
    if (cause !== undefined && cause.depth > this.maxDepth) {
      this.uncaused(() => this.onLoop(cause, tag));
      throw errors.REACTOR_LOOP(chainOf(cause).join(' → '), this.maxDepth);
    }
    // Every event built here has the same keys, the cause included: one object shape.
    // The event's time is the dispatch's instant: one clock read for both.
    const ts = this.now();
    const event = { tag, data, ts, source, [CAUSE]: cause } as Event;
    this.dispatchAt(event, ts);
    return event;
  }

  /** The cause of an event a rule run emitted. */
  causeOf(event: Event): Cause | undefined {
    return (event as Event & { [CAUSE]?: Cause })[CAUSE];
  }

  /** From here, what is emitted synchronously carries `cause`; returns what to restore with `leave`. */
  enter(cause: Cause): Cause | undefined {
    const prev = this.current;
    this.current = cause;
    return prev;
  }

  leave(prev: Cause | undefined): void {
    this.current = prev;
  }

  /** Runs `fn` so that what it emits after its awaits carries `cause` too. */
  carry<T>(cause: Cause, fn: () => T): T {
    this.carried = true;
    return causeScope.run(cause, fn);
  }

  /** Runs `fn` as no rule's doing: what it emits starts a new chain. */
  uncaused<T>(fn: () => T): T {
    const prev = this.current;
    this.current = undefined;
    try {
      return causeScope.exit(fn);
    } finally {
      this.current = prev;
    }
  }

  /** Runs `fn`; what it emits synchronously goes into `into` instead, for the caller to emit later. */
  hold<T>(into: HeldEvent[], fn: () => T): T {
    const prev = this.holding;
    this.holding = into;
    try {
      return fn();
    } finally {
      this.holding = prev;
    }
  }

  /** Dispatches a ready event (replayed or forwarded), keeping its timestamp. */
  dispatch(event: Event): void {
    this.dispatchAt(event, this.instant ?? this.clock.now());
  }

  /** Dispatches at `now`, the dispatch's instant unless one is under way already (an emit inside it). */
  private dispatchAt(event: Event, now: number): void {
    if (this.instant !== undefined) {
      this.deliver(event);
      return;
    }
    this.instant = now;
    try {
      this.deliver(event);
    } finally {
      this.instant = undefined;
    }
  }

  /**
   * Calls the tag's subscriptions: found by a walk of the trie (and the `re:` patterns) once per
   * tag and subscription set, then reused from the tag's entry while no subscription changes.
   */
  private deliver(event: Event): void {
    this.emitted++;
    const entry = this.segments(event.tag);
    entry.n++;
    if (entry.version !== this.version) this.route(entry, event.tag);
    const { subs, fns, selves, matches } = entry;
    // A subscription is looked at only when one was removed during this dispatch: the listeners
    // themselves sit in one dense array.
    const version = this.version;
    for (let i = 0; i < fns.length; i++) {
      if (this.version !== version && !subs[i]!.active) continue;
      this.call(fns[i]!, selves[i], event, matches[i]!);
    }
  }

  private route(entry: TagEntry, tag: string): void {
    const subs: Sub[] = [];
    const matches: Match[] = [];
    const reach = (sub: Sub, match: Match) => {
      subs.push(sub);
      matches.push(match.length ? Object.freeze(match) : NO_MATCH);
    };
    const segs = entry.segs;
    this.walk(this.root, segs, 0, 0, [], tag, reach);
    if (this.reLoose.length) this.tryRegexes(this.reLoose, tag, reach);
    for (const [depth, byPrefix] of this.reIndex) {
      if (segs.length < depth) continue;
      let end = 0;
      for (let d = 0; d < depth; d++) end += segs[d]!.length + 1;
      const list = byPrefix.get(tag.slice(0, end - 1));
      if (list) this.tryRegexes(list, tag, reach);
    }
    entry.subs = subs;
    entry.fns = subs.map((s) => s.fn);
    entry.selves = subs.map((s) => s.self);
    entry.matches = matches;
    entry.version = this.version;
  }

  private tryRegexes(list: readonly ReSub[], tag: string, reach: Reach): void {
    for (const { re, sub } of list) {
      const m = re.exec(tag);
      if (m) reach(sub, m.length > 1 ? m.slice(1).map((g) => g ?? '') : NO_MATCH);
    }
  }

  /** Tags repeat: their split form is kept (bounded), with a count, so dispatch allocates nothing for them. */
  private segments(tag: string): TagEntry {
    let entry = this.split.get(tag);
    if (!entry) {
      if (this.split.size >= MAX_CACHED_TAGS) {
        this.fold(this.folded);
        this.split.clear();
      }
      entry = { segs: tag.split('/'), n: 0, subs: [], fns: [], selves: [], matches: [], version: -1 };
      this.split.set(tag, entry);
    }
    return entry;
  }

  private fold(into: Map<string, number>): Map<string, number> {
    for (const { segs, n } of this.split.values()) into.set(segs[0]!, (into.get(segs[0]!) ?? 0) + n);
    return into;
  }

  /** Events dispatched per tag family (the first segment: `vehicle`, `system` …), counted in place. */
  families(): Map<string, number> {
    return this.fold(new Map(this.folded));
  }

  /** `at`: where segment `i` starts in the tag, so what `#` matched is one substring. */
  private walk(
    n: TrieNode,
    segs: readonly string[],
    i: number,
    at: number,
    caps: string[],
    tag: string,
    reach: Reach,
  ): void {
    if (n.hash.length > 0) {
      const rest = tag.slice(at);
      for (const sub of n.hash) reach(sub, [...caps, rest]);
    }
    if (i === segs.length) {
      for (const sub of n.here) reach(sub, [...caps]);
      return;
    }
    const seg = segs[i]!;
    const next = at + seg.length + 1;
    const child = n.exact.get(seg);
    if (child) this.walk(child, segs, i + 1, next, caps, tag, reach);
    if (n.plus) {
      caps.push(seg);
      this.walk(n.plus, segs, i + 1, next, caps, tag, reach);
      caps.pop();
    }
  }

  private call(fn: Listener, self: unknown, event: Event, match: Match): void {
    try {
      fn.call(self, event, match);
    } catch (err) {
      this.onListenerError(err, event);
    }
  }
}
