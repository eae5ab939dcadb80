import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  Scalar,
} from 'yaml';
import type { ConfigIssue, Pos } from './errors.js';

/** A YAML value that remembers where it was written. */
export type LNode =
  | { t: 'map'; pos: Pos; entries: Map<string, { keyPos: Pos; node: LNode }> }
  | { t: 'seq'; pos: Pos; items: LNode[] }
  | { t: 'val'; pos: Pos; value: unknown };

export type Env = Record<string, string | undefined>;

const ENV_RE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const MAX_DEPTH = 64;

interface Ctx {
  file: string;
  doc: Document;
  lines: LineCounter;
  env: Env;
  issues: ConfigIssue[];
}

function posAt(ctx: Ctx, offset: number | undefined): Pos {
  const { line, col } = ctx.lines.linePos(offset ?? 0);
  return { file: ctx.file, line, column: col };
}

/** `${env:NAME}` / `${env:NAME:-default}` in a scalar; a plain scalar that is only one reference keeps YAML typing. */
function substitute(ctx: Ctx, s: Scalar, pos: Pos, keyPath: string): unknown {
  const raw = s.value;
  if (typeof raw !== 'string' || !raw.includes('${env:')) return raw;
  const whole = raw.match(/^\$\{env:[^}]*\}$/) !== null;
  const out = raw.replace(ENV_RE, (_m, name: string, def: string | undefined) => {
    const v = ctx.env[name];
    if (v !== undefined) return v;
    if (def !== undefined) return def;
    ctx.issues.push({ ...pos, path: keyPath, message: `environment variable ${name} is not set and has no default` });
    return '';
  });
  if (whole && s.type === Scalar.PLAIN) {
    const typed = parseDocument(out).toJS();
    if (typed === null || ['number', 'boolean'].includes(typeof typed)) return out === '' ? '' : typed;
  }
  return out;
}

function convert(ctx: Ctx, node: Node | null | undefined, keyPath: string, depth: number, fallback: Pos): LNode {
  if (depth > MAX_DEPTH) {
    ctx.issues.push({ ...fallback, path: keyPath, message: `nested deeper than ${MAX_DEPTH} levels` });
    return { t: 'val', pos: fallback, value: null };
  }
  if (node == null) return { t: 'val', pos: fallback, value: null };
  if (isAlias(node)) return convert(ctx, node.resolve(ctx.doc) as Node | undefined, keyPath, depth + 1, fallback);
  const pos = posAt(ctx, node.range?.[0]);
  if (isMap(node)) {
    const entries = new Map<string, { keyPos: Pos; node: LNode }>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const keyPos = keyNode ? posAt(ctx, keyNode.range?.[0]) : pos;
      const key = isScalar(keyNode) ? String(keyNode.value) : null;
      if (key === null) {
        ctx.issues.push({ ...keyPos, path: keyPath, message: 'keys must be plain strings' });
        continue;
      }
      const childPath = keyPath ? `${keyPath}.${key}` : key;
      entries.set(key, { keyPos, node: convert(ctx, pair.value as Node | null, childPath, depth + 1, keyPos) });
    }
    return { t: 'map', pos, entries };
  }
  if (isSeq(node)) {
    const items = node.items.map((item, i) => convert(ctx, item as Node | null, `${keyPath}[${i}]`, depth + 1, pos));
    return { t: 'seq', pos, items };
  }
  if (isScalar(node)) return { t: 'val', pos, value: substitute(ctx, node, pos, keyPath) };
  return { t: 'val', pos, value: null };
}

/** Parses one YAML file; syntax errors and unset env variables go to `issues`. */
export function parseYamlSource(file: string, text: string, env: Env, issues: ConfigIssue[]): LNode | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const { line, col } = lines.linePos(e.pos[0]);
      const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      issues.push({ file, line, column: col, path: '', message: `YAML: ${message}` });
    }
    return undefined;
  }
  const ctx: Ctx = { file, doc, lines, env, issues };
  return convert(ctx, doc.contents as Node | null, '', 0, { file, line: 1, column: 1 });
}
