import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { type ConfigIssue, displayFile, formatPath, type KeyPath, type Pos } from './errors.js';
import { type Env, type LNode, parseYamlSource } from './yaml-source.js';

/** Plain config data plus the merged tree that knows where every value and key came from. */
export interface Composed {
  data: unknown;
  tree: LNode | undefined;
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
    issues.push({
      ...at,
      path: from ? 'include' : '',
      message: `cannot read ${displayFile(file)}: ${reason}`,
    });
    return undefined;
  }
  if (text.length > MAX_FILE_BYTES) {
    issues.push({
      file,
      line: 1,
      column: 1,
      path: '',
      message: `file is larger than ${MAX_FILE_BYTES} bytes`,
    });
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
    if (item.t === 'val' && typeof item.value === 'string' && item.value)
      out.push({ pattern: item.value, pos: item.pos });
    else
      issues.push({ ...item.pos, path: 'include', message: 'include takes a file glob or a list of them' });
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
      if (have && p.length === 1 && p[0] === 'services') {
        issues.push({
          ...entry.keyPos,
          path: formatPath([...p, k]),
          message: `service '${k}' is defined twice: here and at ${where(have.keyPos)}`,
        });
      } else if (!have) dst.entries.set(k, entry);
      else have.node = merge(have.node, entry.node, [...p, k], issues);
    }
    return dst;
  }
  if (dst.t === 'seq' && src.t === 'seq' && CONCAT_LISTS.has(key)) {
    dst.items.push(...src.items);
    return dst;
  }
  issues.push({ ...src.pos, path: key, message: `'${key}' is defined twice: here and at ${where(dst.pos)}` });
  return dst;
}

/** Most values one config may expand to: aliases can multiply a small file ("billion laughs"). */
const MAX_VALUES = 2_000_000;

class TooLarge extends Error {}

function flatten(node: LNode, budget: { left: number }): unknown {
  if (--budget.left < 0) throw new TooLarge();
  if (node.t === 'val') return node.value;
  if (node.t === 'seq') return node.items.map((item) => flatten(item, budget));
  const obj: Record<string, unknown> = {};
  for (const [k, entry] of node.entries) obj[k] = flatten(entry.node, budget);
  return obj;
}

/** Reads a config file and everything it includes, merged into one value with positions. */
export function compose(file: string, env: Env, issues: ConfigIssue[]): Composed {
  const root = path.resolve(file);
  const out: Composed = { data: undefined, tree: undefined, files: [] };
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
      for (const match of globSync(pattern, { cwd, absolute: true, onlyFiles: true }).sort())
        visit(match, pos);
    }
  };
  visit(root);
  out.tree = merged;
  if (!merged) return out;
  try {
    out.data = flatten(merged, { left: MAX_VALUES });
  } catch (e) {
    if (!(e instanceof TooLarge)) throw e;
    issues.push({ ...merged.pos, path: '', message: `expands to more than ${MAX_VALUES} values (aliases?)` });
    out.tree = undefined;
  }
  return out;
}

/** The position of a key path (of its key, with `atKey`), or of its nearest ancestor that exists. */
export function positionOf(c: Composed, p: KeyPath, atKey = false): Pos {
  let node = c.tree;
  if (!node) return { file: c.files[0] ?? '', line: 1, column: 1 };
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    if (node.t === 'map') {
      const entry = node.entries.get(String(seg));
      if (!entry) break;
      if (atKey && i === p.length - 1) return entry.keyPos;
      node = entry.node;
    } else if (node.t === 'seq' && typeof seg === 'number' && node.items[seg]) {
      node = node.items[seg];
    } else break;
  }
  return node.pos;
}
