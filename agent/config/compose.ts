import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { type ConfigIssue, displayFile, formatPath, type KeyPath, type Pos } from './errors.js';
import { type Env, type LNode, parseYamlSource } from './yaml-source.js';

/** Plain config data plus where every value and key came from, keyed by formatted key path. */
export interface Composed {
  data: unknown;
  valuePos: Map<string, Pos>;
  keyPos: Map<string, Pos>;
  files: string[];
}

/** Lists that several files may each add to, instead of defining twice. */
const CONCAT_LISTS = new Set(['reactor.rules']);
const MAX_FILE_BYTES = 4 * 1024 * 1024;

function where(p: Pos): string {
  return `${displayFile(p.file)}:${p.line}:${p.column}`;
}

function readSource(file: string, env: Env, issues: ConfigIssue[], from?: Pos): LNode | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
    const at = from ?? { file, line: 1, column: 1 };
    issues.push({ ...at, path: from ? 'include' : '', message: `cannot read ${displayFile(file)}: ${reason}` });
    return undefined;
  }
  if (text.length > MAX_FILE_BYTES) {
    issues.push({ file, line: 1, column: 1, path: '', message: `file is larger than ${MAX_FILE_BYTES} bytes` });
    return undefined;
  }
  return parseYamlSource(file, text, env, issues);
}

function includesOf(node: LNode, issues: ConfigIssue[]): { pattern: string; pos: Pos }[] {
  if (node.t !== 'map') return [];
  const inc = node.entries.get('include');
  if (!inc) return [];
  const list = inc.node.t === 'seq' ? inc.node.items : [inc.node];
  const out: { pattern: string; pos: Pos }[] = [];
  for (const item of list) {
    if (item.t === 'val' && typeof item.value === 'string' && item.value) out.push({ pattern: item.value, pos: item.pos });
    else issues.push({ ...item.pos, path: 'include', message: 'include takes a file glob or a list of them' });
  }
  return out;
}

/** Merges `src` into `dst`: maps by key, `reactor.rules` by concatenation, anything else defined once. */
function merge(dst: LNode, src: LNode, p: KeyPath, issues: ConfigIssue[]): LNode {
  const key = formatPath(p);
  if (dst.t === 'map' && src.t === 'map') {
    for (const [k, entry] of src.entries) {
      if (p.length === 0 && k === 'include') continue;
      const have = dst.entries.get(k);
      if (!have) dst.entries.set(k, entry);
      else have.node = merge(have.node, entry.node, [...p, k], issues);
    }
    return dst;
  }
  if (dst.t === 'seq' && src.t === 'seq' && CONCAT_LISTS.has(key)) {
    dst.items.push(...src.items);
    return dst;
  }
  const what = p[0] === 'services' && p.length === 2 ? `service '${p[1]}'` : `'${key}'`;
  issues.push({ ...src.pos, path: key, message: `${what} is defined twice: here and at ${where(dst.pos)}` });
  return dst;
}

function flatten(node: LNode, p: KeyPath, out: Composed): unknown {
  const key = formatPath(p);
  out.valuePos.set(key, node.pos);
  if (node.t === 'val') return node.value;
  if (node.t === 'seq') return node.items.map((item, i) => flatten(item, [...p, i], out));
  const obj: Record<string, unknown> = {};
  for (const [k, entry] of node.entries) {
    out.keyPos.set(formatPath([...p, k]), entry.keyPos);
    obj[k] = flatten(entry.node, [...p, k], out);
  }
  return obj;
}

/** Reads a config file and everything it includes, merged into one value with positions. */
export function compose(file: string, env: Env, issues: ConfigIssue[]): Composed {
  const root = path.resolve(file);
  const out: Composed = { data: undefined, valuePos: new Map(), keyPos: new Map(), files: [] };
  const seen = new Set<string>();
  let merged: LNode | undefined;

  const visit = (f: string, from?: Pos) => {
    if (seen.has(f)) return;
    seen.add(f);
    out.files.push(f);
    const node = readSource(f, env, issues, from);
    if (!node) return;
    merged = merged ? merge(merged, node, [], issues) : node;
    for (const { pattern, pos } of includesOf(node, issues)) {
      const cwd = path.dirname(f);
      if (!isDynamicPattern(pattern)) {
        const target = path.resolve(cwd, pattern);
        if (!existsSync(target)) {
          issues.push({ ...pos, path: 'include', message: `included file ${pattern} not found` });
          continue;
        }
        visit(target, pos);
        continue;
      }
      for (const match of globSync(pattern, { cwd, absolute: true, onlyFiles: true }).sort()) visit(match, pos);
    }
  };
  visit(root);
  if (merged) out.data = flatten(merged, [], out);
  return out;
}

/** The position of a key path, or of its nearest ancestor that exists. */
export function positionOf(c: Composed, p: KeyPath, preferKey = false): Pos {
  for (let n = p.length; n >= 0; n--) {
    const key = formatPath(p.slice(0, n));
    const hit = (preferKey && n === p.length ? c.keyPos.get(key) : undefined) ?? c.valuePos.get(key);
    if (hit) return hit;
  }
  return { file: c.files[0] ?? '', line: 1, column: 1 };
}
