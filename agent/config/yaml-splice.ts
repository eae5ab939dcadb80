import type { ConfigIssue, Pos } from './errors.js';
import type { KeptTree } from './memo.js';
import {
  type Env,
  type LNode,
  lineOf,
  lineStarts,
  opensItem,
  type ParsedYaml,
  parseYaml,
  SPACE,
} from './yaml-source.js';

type Seq = Extract<LNode, { t: 'seq' }>;
type MapNode = Extract<LNode, { t: 'map' }>;

/**
 * Items `first`..`last` of a block sequence, or entries of a block mapping, and the lines they
 * take: `start` to `end` (offsets in the old text).
 */
interface Span {
  kind: 'seq' | 'map';
  /** Keys and indexes from the root to the collection. */
  path: (string | number)[];
  first: number;
  last: number;
  start: number;
  end: number;
  /** The lines (0-based) of `start` and `end`. */
  startLine: number;
  endLine: number;
  /** The column of the sequence's dashes, or of the mapping's keys, 0-based. */
  indent: number;
}

/** Whether the text from `lineStart` to `offset` is spaces only: what starts at `offset` begins its line. */
function beginsLine(text: string, offset: number, lineStart: number): boolean {
  for (let i = lineStart; i < offset; i++) if (text.charCodeAt(i) !== SPACE) return false;
  return true;
}

const LONE_CR = /\r(?!\n)/;

/** Whether `text` at `offset` is a dash that opens a block sequence item at column `indent`: only spaces before it on its line. */
function isDash(text: string, offset: number, indent: number, lineStart: number): boolean {
  return offset - lineStart === indent && opensItem(text, offset) && beginsLine(text, offset, lineStart);
}

/**
 * Where the edit from `a` to `b` (old offsets) lies within block sequence items, innermost last:
 * each a range of items whose lines hold all of it. The lines of a block collection's entry end
 * where the next entry's line starts: nothing of the entry before shares that line.
 */
function spans(text: string, root: LNode, a: number, b: number): Span[] {
  const starts = lineStarts(text);
  const offsetOf = (p: Pos) => starts[p.line - 1]! + p.column - 1;
  const lineStart = (offset: number) => starts[lineOf(starts, offset)]!;
  const out: Span[] = [];
  const walk = (node: LNode, end: number, path: (string | number)[]): void => {
    if (node.t === 'map') {
      // Where each entry's lines start: its key's line.
      const entries = [...node.entries].map(([key, e]) => {
        const keyAt = offsetOf(e.keyPos);
        return { key, keyAt, at: lineStart(keyAt), node: e.node };
      });
      if (entries.length === 0) return;
      // As with items: an edit from an entry's key line on may also end the entry before.
      let first = entries[0]!.at <= a ? 0 : -1;
      for (let i = 1; i < entries.length && entries[i]!.at < a; i++) first = i;
      if (first < 0) return;
      const endOf = (i: number) => (i + 1 < entries.length ? entries[i + 1]!.at : end);
      let last = first;
      while (last < entries.length && endOf(last) < b) last++;
      if (last === entries.length) return;
      // Entries whose keys each begin their line at the mapping's column.
      const indent = node.pos.column - 1;
      const block = entries
        .slice(first, last + 1)
        .every((e) => e.keyAt - e.at === indent && beginsLine(text, e.keyAt, e.at));
      if (block)
        out.push({
          kind: 'map',
          path,
          first,
          last,
          start: entries[first]!.at,
          end: endOf(last),
          startLine: lineOf(starts, entries[first]!.at),
          endLine: lineOf(starts, endOf(last)),
          indent,
        });
      if (first === last) walk(entries[first]!.node, endOf(first), [...path, entries[first]!.key]);
      return;
    }
    if (node.t !== 'seq' || node.items.length === 0) return;
    const indent = node.pos.column - 1;
    const seqAt = offsetOf(node.pos);
    if (!isDash(text, seqAt, indent, lineStart(seqAt))) return;
    // Each item's dash: back from where its node starts, over blanks.
    const dashes: number[] = [];
    for (const item of node.items) {
      let i = offsetOf(item.pos) - 1;
      while (i >= 0 && /[ \t\r\n]/.test(text[i]!)) i--;
      if (i < 0 || !isDash(text, i, indent, lineStart(i))) return;
      dashes.push(lineStart(i));
    }
    // An edit from an item's first line on may also end the item before: it is taken too.
    let first = dashes[0]! <= a ? 0 : -1;
    for (let i = 1; i < dashes.length && dashes[i]! < a; i++) first = i;
    if (first < 0) return;
    const endOf = (i: number) => (i + 1 < dashes.length ? dashes[i + 1]! : end);
    let last = first;
    while (last < dashes.length && endOf(last) < b) last++;
    if (last === dashes.length) return;
    const [start, stop] = [dashes[first]!, endOf(last)];
    out.push({
      kind: 'seq',
      path,
      first,
      last,
      start,
      end: stop,
      startLine: lineOf(starts, start),
      endLine: lineOf(starts, stop),
      indent,
    });
    if (first === last) walk(node.items[first]!, endOf(first), [...path, first]);
  };
  walk(root, text.length, []);
  return out;
}

/** What a line may open with at a mapping's column to be one of its keys: a plain or quoted word. */
const KEY_START = /^[A-Za-z0-9_$"']/;

/**
 * Whether `part` parses in place as it does alone: it opens with an item at the sequence's column
 * (or a key at the mapping's), and every other line is blank, a comment, another item (key, or an
 * item of a key's sequence written at the keys' column), or indented deeper (so it cannot close the
 * collection, or belong to what holds it). A carriage return alone breaks a line in YAML, where
 * these lines do not: a part with one is not taken.
 */
function standsAlone(part: string, indent: number, kind: Span['kind']): boolean {
  if (LONE_CR.test(part)) return false;
  let first = true;
  for (let at = 0; at < part.length; ) {
    let nl = part.indexOf('\n', at);
    if (nl === -1) nl = part.length;
    let i = at;
    while (i < nl && part.charCodeAt(i) === SPACE) i++;
    const item = i - at === indent && isDash(part, i, indent, at);
    const key = kind === 'map' && i - at === indent && KEY_START.test(part.slice(i, i + 1));
    const opens = kind === 'seq' ? item : key;
    if (
      first
        ? !opens
        : !(opens || (kind === 'map' && item) || i - at > indent || /^\s*(#|$)/.test(part.slice(i, nl)))
    )
      return false;
    first = false;
    at = nl + 1;
  }
  return !first;
}

const BLOCKS = [16384, 1024, 64, 8, 1];

/**
 * How many characters `x` and `y` have in common from `from` on (`dir` 1), or before `from` and
 * its match in `y` (`dir` -1, `from` then x's end), at most `limit`: compared in blocks first, by
 * the engine's string comparison, a character loop being several times slower on a large file.
 */
function common(x: string, y: string, from: number, limit: number, dir: 1 | -1): number {
  const shift = y.length - x.length;
  let n = 0;
  for (const block of BLOCKS)
    while (n + block <= limit) {
      const i = dir === 1 ? from + n : from - n - block;
      if (x.slice(i, i + block) !== y.slice(i + (dir === 1 ? 0 : shift), i + block + (dir === 1 ? 0 : shift)))
        break;
      n += block;
    }
  return n;
}

/**
 * A changed file's tree from its tree before: when the edit lies within items of one block sequence
 * (rules, a rule's actions) or entries of one block mapping (a service, its settings), only those
 * lines are parsed again and put in place of the old items or entries, and the nodes that follow
 * are moved by the lines added or removed, in place (the old tree is of no use after: the caller
 * keeps the new one, or forgets both). Undefined where a whole parse is needed: the old text has
 * anchors, aliases, merges or directives (a part could stand for more than itself), the edit is
 * elsewhere, or the new part does not parse alone without a problem (the whole parse then reports
 * it, where it is).
 */
export function spliceYaml(file: string, before: KeptTree, text: string, env: Env): ParsedYaml | undefined {
  const old = before.text;
  // A merge (`<<`) brings keys in from elsewhere, which the mapping's own keys override: parsed whole.
  if (before.linked || old === text || old.includes('<<') || text.includes('<<')) return undefined;
  const shortest = Math.min(old.length, text.length);
  const a = common(old, text, 0, shortest, 1);
  const b = old.length - common(old, text, old.length, shortest - a, -1);
  const grown = text.length - old.length;
  // From the start of the line: a line put before an item is then also a line put after the item before it.
  const found = spans(old, before.node, old.lastIndexOf('\n', a - 1) + 1, b);
  for (let k = found.length - 1; k >= 0; k--) {
    const span = found[k]!;
    const stop = span.end + grown;
    // The items' lines end where the old ones did: unless the edit joined the next line to them.
    if (span.end < old.length && text[stop - 1] !== '\n') continue;
    const part = text.slice(span.start, stop);
    if (!standsAlone(part, span.indent, span.kind)) continue;
    const issues: ConfigIssue[] = [];
    const parsed = parseYaml(file, part, env, issues, { line: span.startLine, depth: span.path.length });
    const got = parsed.node;
    if (issues.length > 0 || got?.t !== span.kind || got.pos.column !== span.indent + 1) continue;
    // A key the part brings that the mapping has outside it: the whole parse reports the duplicate.
    if (got.t === 'map') {
      const others = keysOutside(before.node, span);
      if ([...got.entries.keys()].some((k) => others.has(k))) continue;
    }
    const shift = lineStarts(part).length - 1 - (span.endLine - span.startLine);
    return { node: rebuilt(before.node, span, got, shift), linked: parsed.linked };
  }
  return undefined;
}

/** Moves a node and all below it by `shift` lines, in place. */
function move(node: LNode, shift: number): void {
  node.pos.line += shift;
  if (node.t === 'seq') for (const item of node.items) move(item, shift);
  else if (node.t === 'map')
    for (const entry of node.entries.values()) {
      entry.keyPos.line += shift;
      move(entry.node, shift);
    }
}

/** The collection a span lies in. */
function collectionOf(root: LNode, span: Span): LNode {
  let node = root;
  for (const step of span.path)
    node =
      node.t === 'seq' ? node.items[step as number]! : (node as MapNode).entries.get(step as string)!.node;
  return node;
}

/** The keys of a span's mapping that are not in the span. */
function keysOutside(root: LNode, span: Span): Set<string> {
  const keys = [...(collectionOf(root, span) as MapNode).entries.keys()];
  return new Set([...keys.slice(0, span.first), ...keys.slice(span.last + 1)]);
}

/**
 * The old tree with the span's items (or entries) replaced by those of `part`: new nodes on the
 * path to them, the nodes after them (from the span's `endLine`) the old ones moved by `shift`
 * lines in place. The old tree is its file's text before, which nothing reads once the new one is
 * parsed; a node and what is known of it (`ConfigMemo.values`) stay one object.
 */
function rebuilt(root: LNode, span: Span, part: LNode, shift: number): LNode {
  const after = (p: Pos) => p.line - 1 >= span.endLine;
  const moved = <T extends LNode | { keyPos: Pos; node: LNode }>(x: T): T => {
    if (shift === 0) return x;
    if ('keyPos' in x) {
      x.keyPos.line += shift;
      move(x.node, shift);
    } else move(x, shift);
    return x;
  };
  const down = (node: LNode, depth: number): LNode => {
    if (depth === span.path.length) {
      if (node.t === 'seq') {
        const rest = node.items.slice(span.last + 1).map(moved);
        return {
          t: 'seq',
          pos: node.pos,
          items: [...node.items.slice(0, span.first), ...(part as Seq).items, ...rest],
        };
      }
      const all = [...(node as MapNode).entries];
      const rest = all.slice(span.last + 1).map(([k, e]) => [k, moved(e)] as const);
      const entries = new Map([...all.slice(0, span.first), ...(part as MapNode).entries, ...rest]);
      return { t: 'map', pos: node.pos, entries };
    }
    const step = span.path[depth]!;
    if (node.t === 'seq') {
      const i = step as number;
      const items = node.items.map((item, n) =>
        n === i ? down(item, depth + 1) : after(item.pos) ? moved(item) : item,
      );
      return { t: 'seq', pos: node.pos, items };
    }
    const map = node as MapNode;
    const entries = new Map<string, { keyPos: Pos; node: LNode }>();
    for (const [k, e] of map.entries)
      entries.set(
        k,
        k === step ? { keyPos: e.keyPos, node: down(e.node, depth + 1) } : after(e.keyPos) ? moved(e) : e,
      );
    return { t: 'map', pos: map.pos, entries };
  };
  return down(root, 0);
}
