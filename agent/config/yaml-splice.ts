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

/** Items `first`..`last` of a block sequence, and the lines they take: `start` to `end` (offsets in the old text). */
interface Span {
  /** Keys and indexes from the root to `seq`. */
  path: (string | number)[];
  first: number;
  last: number;
  start: number;
  end: number;
  /** The lines (0-based) of `start` and `end`. */
  startLine: number;
  endLine: number;
  /** The column of the sequence's dashes, 0-based. */
  indent: number;
}

const LONE_CR = /\r(?!\n)/;

/** Whether `text` at `offset` is a dash that opens a block sequence item at column `indent`: only spaces before it on its line. */
function isDash(text: string, offset: number, indent: number, lineStart: number): boolean {
  if (offset - lineStart !== indent || !opensItem(text, offset)) return false;
  for (let i = lineStart; i < offset; i++) if (text.charCodeAt(i) !== SPACE) return false;
  return true;
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
      const entries = [...node.entries].map(([key, e]) => ({
        key,
        at: lineStart(offsetOf(e.keyPos)),
        node: e.node,
      }));
      // The entry the edit starts in: as with items, one from whose key's line on it starts may also end the entry before.
      let found: (typeof entries)[number] | undefined;
      for (const e of entries) {
        const better = !found || (found.at === a ? e.at < a : e.at < a && e.at > found.at);
        if (e.at <= a && better) found = e;
      }
      if (!found) return;
      let next = end;
      for (const e of entries) if (e.at > found.at && e.at < next) next = e.at;
      if (b <= next) walk(found.node, next, [...path, found.key]);
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

/**
 * Whether `part` parses in place as it does alone: it opens with an item at the sequence's column,
 * and every other line is blank, a comment, another item, or indented deeper (so it cannot close
 * the sequence, or belong to what holds it). A carriage return alone breaks a line in YAML, where
 * these lines do not: a part with one is not taken.
 */
function standsAlone(part: string, indent: number): boolean {
  if (LONE_CR.test(part)) return false;
  let first = true;
  for (let at = 0; at < part.length; ) {
    let nl = part.indexOf('\n', at);
    if (nl === -1) nl = part.length;
    let i = at;
    while (i < nl && part.charCodeAt(i) === SPACE) i++;
    const item = i - at === indent && isDash(part, i, indent, at);
    if (first ? !item : !(item || i - at > indent || /^\s*(#|$)/.test(part.slice(i, nl)))) return false;
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
 * (rules, a rule's actions), only those items' lines are parsed again and put in place of the old
 * items, and the nodes that follow are moved by the lines added or removed, in place (the old tree
 * is of no use after: the caller keeps the new one, or forgets both). Undefined where a whole parse
 * is needed: the old text has anchors, aliases or directives (a part could stand for more than
 * itself), the edit is elsewhere, or the new items do not parse alone without a problem (the whole
 * parse then reports it, where it is).
 */
export function spliceYaml(file: string, before: KeptTree, text: string, env: Env): ParsedYaml | undefined {
  const old = before.text;
  if (before.linked || old === text) return undefined;
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
    if (!standsAlone(part, span.indent)) continue;
    const issues: ConfigIssue[] = [];
    const parsed = parseYaml(file, part, env, issues, { line: span.startLine, depth: span.path.length });
    const seq = parsed.node;
    if (issues.length > 0 || seq?.t !== 'seq' || seq.pos.column !== span.indent + 1) continue;
    const shift = lineStarts(part).length - 1 - (span.endLine - span.startLine);
    return { node: rebuilt(before.node, span, seq.items, shift), linked: parsed.linked };
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

/**
 * The old tree with the span's items replaced: new nodes on the path to them, the nodes after them
 * (from the span's `endLine`) the old ones moved by `shift` lines in place. The old tree is its file's
 * text before, which nothing reads once the new one is parsed; a node and what is known of it
 * (`ConfigMemo.values`) stay one object.
 */
function rebuilt(root: LNode, span: Span, items: LNode[], shift: number): LNode {
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
      const seq = node as Seq;
      const rest = seq.items.slice(span.last + 1).map(moved);
      return { t: 'seq', pos: seq.pos, items: [...seq.items.slice(0, span.first), ...items, ...rest] };
    }
    const step = span.path[depth]!;
    if (node.t === 'seq') {
      const i = step as number;
      const items = node.items.map((item, n) =>
        n === i ? down(item, depth + 1) : after(item.pos) ? moved(item) : item,
      );
      return { t: 'seq', pos: node.pos, items };
    }
    const map = node as Extract<LNode, { t: 'map' }>;
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
