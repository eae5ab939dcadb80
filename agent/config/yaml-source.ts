import {
  boolCoreTag,
  COLLECTION_STYLE,
  EVENT_ALIAS,
  EVENT_DOCUMENT,
  EVENT_MAPPING,
  EVENT_POP,
  EVENT_SCALAR,
  EVENT_SEQUENCE,
  type Event,
  floatCoreTag,
  getScalarValue,
  intCoreTag,
  NOT_RESOLVED,
  nullCoreTag,
  parseEvents,
  SCALAR_STYLE_DOUBLE_QUOTED,
  SCALAR_STYLE_PLAIN,
  SCALAR_STYLE_SINGLE_QUOTED,
  type ScalarEvent,
  YAMLException,
} from 'js-yaml';
import { type ConfigIssue, formatPath, type Pos } from './errors.js';

/** A YAML value that remembers where it was written. */
export type LNode =
  | { t: 'map'; pos: Pos; entries: MapEntries }
  | { t: 'seq'; pos: Pos; items: LNode[] }
  | { t: 'val'; pos: Pos; value: unknown };

type MapEntries = Map<string, { keyPos: Pos; node: LNode }>;

export type Env = Record<string, string | undefined>;

const ENV_RE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_ENV_RE = /^\$\{env:[^}]*\}$/;
const MAX_DEPTH = 64;
/** Only these first characters can start a null, boolean or number in the core schema. */
const MAYBE_TYPED = /^[-+.0-9nNtTfF~]/;
const IMPLICIT = [nullCoreTag, boolCoreTag, intCoreTag, floatCoreTag];

/** YAML 1.2 core schema typing of a plain scalar: null, booleans, numbers, else the string. */
function typed(text: string): unknown {
  if (text !== '' && !MAYBE_TYPED.test(text)) return text;
  for (const tag of IMPLICIT) {
    const v = tag.resolve(text, false, tag.tagName);
    if (v !== NOT_RESOLVED) return v;
  }
  return text;
}

const duplicate = (key: string, first: Pos) =>
  `duplicate key '${key}' (first at line ${first.line}:${first.column})`;

const DASH = 0x2d;
/** Shared with the splice, which reads the same indentation. */
export const SPACE = 0x20;
const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const HASH = 0x23;

/** A scalar with no text, tag or anchor: nothing in the text says where it is. */
const isEmpty = (ev: Event) =>
  ev.type === EVENT_SCALAR && ev.valueStart < 0 && ev.tagStart < 0 && ev.anchorStart < 0;

/** A key written `<<` merges (YAML's merge key); quoted or tagged, it is only a key. */
const isPlain = (ev: Event) => ev.type === EVENT_SCALAR && ev.style === SCALAR_STYLE_PLAIN && ev.tagStart < 0;

/** Offsets where each line of `text` starts. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The line (0-based) holding `offset`, of a text whose `lineStarts` are `starts`. */
export function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Whether the character at `at` is a dash that opens a block sequence item: a blank or the end follows it. */
export function opensItem(text: string, at: number): boolean {
  if (text.charCodeAt(at) !== DASH) return false;
  const after = text.charCodeAt(at + 1);
  return Number.isNaN(after) || after === SPACE || after === TAB || after === LF || after === CR;
}

/** Offsets to 1-based line and column; `firstLine` lines come before the text (a part of a file). */
class Lines {
  private readonly starts: number[];
  /** The line of the last offset asked for: a parse asks in document order, so the next is near. */
  private last = 0;
  constructor(
    text: string,
    private readonly firstLine = 0,
  ) {
    this.starts = lineStarts(text);
  }
  at(file: string, offset: number): Pos {
    const { last } = this;
    const line = this.holds(last, offset)
      ? last
      : this.holds(last + 1, offset)
        ? last + 1
        : lineOf(this.starts, offset);
    this.last = line;
    return { file, line: this.firstLine + line + 1, column: offset - this.starts[line]! + 1 };
  }

  private holds(line: number, offset: number): boolean {
    const { starts } = this;
    return (
      line < starts.length &&
      starts[line]! <= offset &&
      (line + 1 === starts.length || starts[line + 1]! > offset)
    );
  }
}

class Builder {
  private i = 0;
  /** Key path of the node being built, formatted only when an issue needs it. */
  private readonly path: (string | number)[] = [];
  private readonly anchors = new Map<string, LNode>();
  private readonly lines: Lines;
  /** Where the last node read starts. */
  private read = 0;
  /** Whether a node may stand for more than itself: an anchor, an alias or a directive was read. */
  linked = false;

  constructor(
    private readonly file: string,
    private readonly text: string,
    private readonly events: Event[],
    private readonly env: Env,
    private readonly issues: ConfigIssue[],
    firstLine = 0,
  ) {
    this.lines = new Lines(text, firstLine);
  }

  document(): LNode | undefined {
    const start = this.events[this.i];
    if (start?.type === EVENT_DOCUMENT) {
      this.i++;
      if (start.directives.length > 0) this.linked = true;
    }
    if (this.i >= this.events.length || this.events[this.i]!.type === EVENT_POP) return undefined;
    const root = this.node();
    if (this.events.slice(this.i).some((e) => e.type === EVENT_DOCUMENT)) {
      this.issues.push({
        file: this.file,
        line: 1,
        column: 1,
        path: '',
        message: 'YAML: a config file holds one document',
      });
    }
    return root;
  }

  private pos(offset: number): Pos {
    return this.lines.at(this.file, offset);
  }

  private anchor(ev: { anchorStart: number; anchorEnd: number }, node: LNode): LNode {
    if (ev.anchorStart >= 0) {
      this.anchors.set(this.text.slice(ev.anchorStart, ev.anchorEnd), node);
      this.linked = true;
    }
    return node;
  }

  private node(): LNode {
    const ev = this.events[this.i++]!;
    switch (ev.type) {
      case EVENT_SCALAR: {
        // Point at the opening quote of a quoted scalar, as an editor shows it.
        const quoted = ev.style === SCALAR_STYLE_SINGLE_QUOTED || ev.style === SCALAR_STYLE_DOUBLE_QUOTED;
        // An empty scalar (`key:` or a lone tag) has no text: point at its tag or anchor, else at
        // what was read before it (its key).
        const start =
          ev.valueStart >= 0
            ? ev.valueStart - (quoted ? 1 : 0)
            : Math.max(ev.tagStart, ev.anchorStart, this.read);
        this.read = start;
        const pos = this.pos(start);
        return this.anchor(ev, { t: 'val', pos, value: this.scalar(ev, pos) });
      }
      case EVENT_ALIAS: {
        this.linked = true;
        this.read = ev.anchorStart;
        const name = this.text.slice(ev.anchorStart, ev.anchorEnd);
        const target = this.anchors.get(name);
        if (target) return target;
        this.issues.push({
          ...this.pos(ev.anchorStart),
          path: formatPath(this.path),
          message: `YAML: unknown alias *${name}`,
        });
        return { t: 'val', pos: this.pos(ev.anchorStart), value: null };
      }
      case EVENT_SEQUENCE: {
        this.read = ev.start;
        const node: LNode = { t: 'seq', pos: this.pos(ev.start), items: [] };
        while (this.events[this.i]!.type !== EVENT_POP) {
          // An empty item (`-` alone) has no text: it is placed at its dash, found in the text.
          const next = this.events[this.i]!;
          if (node.items.length > 0 && ev.style === COLLECTION_STYLE.BLOCK && isEmpty(next))
            this.read = this.dashAfter(this.read, node.pos.column - 1);
          this.path.push(node.items.length);
          node.items.push(this.node());
          this.path.pop();
        }
        this.i++;
        return this.anchor(ev, node);
      }
      case EVENT_MAPPING: {
        this.read = ev.start;
        const node: LNode = { t: 'map', pos: this.pos(ev.start), entries: new Map() };
        /** Keys a merge (`<<`) brought in: a key written in this mapping itself overrides them. */
        const merged = new Set<string>();
        let mergedAt: Pos | undefined;
        while (this.events[this.i]!.type !== EVENT_POP) {
          const keyEvent = this.events[this.i]!;
          const keyNode = this.node();
          const key =
            keyNode.t === 'val' && keyNode.value !== null && typeof keyNode.value !== 'object'
              ? String(keyNode.value)
              : null;
          this.path.push(key ?? '?');
          const value = this.node();
          if (key === '<<' && isPlain(keyEvent)) {
            if (mergedAt)
              this.issues.push({
                ...keyNode.pos,
                path: formatPath(this.path),
                message: duplicate(key, mergedAt),
              });
            else this.merge(node.entries, merged, value);
            mergedAt ??= keyNode.pos;
            this.path.pop();
            continue;
          }
          const first = key === null || merged.delete(key) ? undefined : node.entries.get(key);
          if (key === null || first || key === '__proto__') {
            const message =
              key === null
                ? 'keys must be plain strings'
                : first
                  ? duplicate(key, first.keyPos)
                  : // In JavaScript this name is an object's prototype, not a key: refused wherever it is written.
                    "'__proto__' cannot be a key";
            this.issues.push({ ...keyNode.pos, path: formatPath(this.path), message });
            this.path.pop();
            continue;
          }
          this.path.pop();
          node.entries.set(key, { keyPos: keyNode.pos, node: value });
        }
        this.i++;
        return this.anchor(ev, node);
      }
      default:
        throw new Error(`unexpected YAML event ${ev.type}`);
    }
  }

  /**
   * A merge key (`<<: *defaults`, or a list of mappings, the first of them winning): the mappings'
   * entries are added where not yet present, each keeping the position it was written at.
   */
  private merge(entries: MapEntries, merged: Set<string>, value: LNode): void {
    const sources = value.t === 'seq' ? value.items : [value];
    for (const source of sources) {
      if (source.t !== 'map') {
        this.issues.push({
          ...source.pos,
          path: formatPath(this.path),
          message: "YAML: '<<' merges a mapping, or a list of mappings, into this one",
        });
        continue;
      }
      for (const [key, entry] of source.entries) {
        if (entries.has(key)) continue;
        entries.set(key, entry);
        merged.add(key);
      }
    }
  }

  /**
   * The dash of a block sequence's next item, at `column` on a line after `offset`'s (the item
   * before it is indented deeper); `offset` itself if a line ends the sequence first.
   */
  private dashAfter(offset: number, column: number): number {
    const { text } = this;
    for (let nl = text.indexOf('\n', offset); nl !== -1; nl = text.indexOf('\n', nl + 1)) {
      let at = nl + 1;
      while (text.charCodeAt(at) === SPACE) at++;
      const c = text.charCodeAt(at);
      if (c === LF || c === CR || c === HASH || Number.isNaN(c)) continue;
      if (at - nl - 1 === column && opensItem(text, at)) return at;
      if (at - nl - 1 <= column) break;
    }
    return offset;
  }

  /** Decodes a scalar and substitutes `${env:NAME}` / `${env:NAME:-default}`. */
  private scalar(ev: ScalarEvent, pos: Pos): unknown {
    const text = getScalarValue(this.text, ev);
    const plain = ev.style === SCALAR_STYLE_PLAIN && ev.tagStart < 0;
    if (!text.includes('${env:')) return plain ? typed(text) : text;
    const out = text.replace(ENV_RE, (_m, name: string, def: string | undefined) => {
      const v = this.env[name];
      if (v !== undefined) return v;
      if (def !== undefined) return def;
      this.issues.push({
        ...pos,
        path: formatPath(this.path),
        message: `environment variable ${name} is not set and has no default`,
      });
      return '';
    });
    // A plain scalar that is exactly one reference is typed like YAML would type the value itself.
    return plain && WHOLE_ENV_RE.test(text) && out !== '' ? typed(out) : out;
  }
}

/** A parsed YAML text: its tree, and whether a node in it may stand for more than itself (`linked`: anchors, aliases, directives). */
export interface ParsedYaml {
  node: LNode | undefined;
  linked: boolean;
}

/**
 * Parses YAML text; syntax errors and unset env variables go to `issues`. `at` places a part of a
 * file: the text starts at line `line` + 1 of it, `depth` levels deep in its tree.
 */
export function parseYaml(
  file: string,
  text: string,
  env: Env,
  issues: ConfigIssue[],
  at: { line: number; depth: number } = { line: 0, depth: 0 },
): ParsedYaml {
  try {
    const events = parseEvents(text, { filename: file, maxDepth: MAX_DEPTH - at.depth });
    const builder = new Builder(file, text, events, env, issues, at.line);
    const node = builder.document();
    return { node, linked: builder.linked };
  } catch (e) {
    if (!(e instanceof YAMLException)) throw e;
    const mark = (e as YAMLException & { mark?: { line: number; column: number } }).mark;
    const reason = (e as YAMLException & { reason?: string }).reason ?? e.message;
    issues.push({
      file,
      line: at.line + (mark?.line ?? 0) + 1,
      column: (mark?.column ?? 0) + 1,
      path: '',
      message: `YAML: ${reason}`,
    });
    return { node: undefined, linked: false };
  }
}

/** Parses one YAML file; syntax errors and unset env variables go to `issues`. */
export const parseYamlSource = (
  file: string,
  text: string,
  env: Env,
  issues: ConfigIssue[],
): LNode | undefined => parseYaml(file, text, env, issues).node;
