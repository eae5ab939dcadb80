import { isUtf8 } from 'node:buffer';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { deepFreeze } from '../core/freeze.js';
import { type ConfigIssue, displayFile, formatPath, type KeyPath, type Pos } from './errors.js';
import type { ConfigMemo } from './memo.js';
import { type Env, type LNode, parseYaml, parseYamlSource } from './yaml-source.js';
import { spliceYaml } from './yaml-splice.js';

/** Plain config data plus the merged tree that knows where every value and key came from. */
export interface Composed {
  data: unknown;
  tree: LNode | undefined;
  files: string[];
  /** What is allowed but likely a mistake: an include glob that matches no file. */
  warnings: ConfigIssue[];
}

/** Lists that several files may each add to, instead of defining twice. */
const CONCAT_LISTS = new Set(['reactor.rules']);
const MAX_FILE_BYTES = 4 * 1024 * 1024;

function where(p: Pos): string {
  return `${displayFile(p.file)}:${p.line}:${p.column}`;
}

/** Offset of the first byte that is not valid UTF-8, or -1 (found in JavaScript: only once `isUtf8` said there is one). */
function invalidUtf8At(buf: Buffer): number {
  for (let i = 0; i < buf.length; ) {
    const b = buf[i]!;
    const n =
      b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (n < 0 || i + n >= buf.length + (n === 0 ? 1 : 0)) return i;
    for (let k = 1; k <= n; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return i;
    // Overlong, surrogate and out-of-range forms of 3- and 4-byte sequences.
    const b1 = buf[i + 1]!;
    if (
      (b === 0xe0 && b1 < 0xa0) ||
      (b === 0xed && b1 > 0x9f) ||
      (b === 0xf0 && b1 < 0x90) ||
      (b === 0xf4 && b1 > 0x8f)
    )
      return i;
    i += n + 1;
  }
  return -1;
}

/** Why `file` (symlinks followed) may not be read as config: not a regular file, or too large to read whole. */
function unreadable(file: string): string | undefined {
  const st = statSync(file);
  if (!st.isFile()) return 'not a regular file';
  if (st.size > MAX_FILE_BYTES) return `larger than ${MAX_FILE_BYTES} bytes`;
  return undefined;
}

function readSource(
  file: string,
  env: Env,
  issues: ConfigIssue[],
  from?: Pos,
  memo?: ConfigMemo,
): LNode | undefined {
  let text: string;
  try {
    // Checked before reading: a link to a device or a huge file is never read at all.
    const why = unreadable(file);
    if (why) {
      issues.push({
        ...(from ?? { file, line: 1, column: 1 }),
        path: from ? 'include' : '',
        message: `cannot read ${displayFile(file)}: ${why}`,
      });
      return undefined;
    }
    const buf = readFileSync(file);
    const bad = buf.length <= MAX_FILE_BYTES && !isUtf8(buf) ? invalidUtf8At(buf) : -1;
    if (bad >= 0) {
      const before = buf.subarray(0, bad);
      const line = before.filter((c) => c === 0x0a).length + 1;
      const column = bad - (before.lastIndexOf(0x0a) + 1) + 1;
      issues.push({ file, line, column, path: '', message: 'not valid UTF-8 text (save the file as UTF-8)' });
      return undefined;
    }
    text = buf.toString('utf8');
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
  if (!memo) return parseYamlSource(file, text, env, issues);
  const known = memo.tree(file, text);
  if (known) return known;
  const earlier = memo.earlier(file);
  const spliced = earlier && spliceYaml(file, earlier, text, env);
  if (spliced) {
    memo.keep(file, text, spliced);
    return spliced.node;
  }
  const own: ConfigIssue[] = [];
  const parsed = parseYaml(file, text, env, own);
  if (own.length === 0) memo.keep(file, text, parsed);
  issues.push(...own);
  return parsed.node;
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

/**
 * `src` merged into `dst`: maps by key, `reactor.rules` by concatenation, anything else defined once.
 * A new node where they combine: the files' own trees stay as parsed, for the next load to reuse.
 */
function merge(dst: LNode, src: LNode, p: KeyPath, issues: ConfigIssue[]): LNode {
  const key = formatPath(p);
  if (dst.t === 'map' && src.t === 'map') {
    const entries = new Map(dst.entries);
    for (const [k, entry] of src.entries) {
      if (p.length === 0 && k === 'include') continue;
      const have = entries.get(k);
      if (have && p.length === 1 && p[0] === 'services') {
        issues.push({
          ...entry.keyPos,
          path: formatPath([...p, k]),
          message: `service '${k}' is defined twice: here and at ${where(have.keyPos)}`,
        });
      } else if (!have) entries.set(k, entry);
      else entries.set(k, { ...have, node: merge(have.node, entry.node, [...p, k], issues) });
    }
    return { ...dst, entries };
  }
  if (dst.t === 'seq' && src.t === 'seq' && CONCAT_LISTS.has(key)) {
    return { ...dst, items: [...dst.items, ...src.items] };
  }
  issues.push({ ...src.pos, path: key, message: `'${key}' is defined twice: here and at ${where(dst.pos)}` });
  return dst;
}

/**
 * A bundle's overlay (`{rules?, services?}`, its own file) laid over a composed config: its rules
 * replace the config's rule set, its services the config's services of the same names. Its nodes
 * keep their positions in the overlay's file, so a problem in them is placed there, and their
 * relative paths resolve among the bundle's files. New nodes where they combine, as in `merge`.
 */
function layOverTree(base: LNode, over: LNode, issues: ConfigIssue[]): LNode {
  if (base.t !== 'map') return base;
  if (over.t !== 'map') {
    issues.push({ ...over.pos, path: '', message: 'a bundle is a map of rules and services' });
    return base;
  }
  const entries = new Map(base.entries);
  /** The map at `key` of the config (a new one where it has none), with `set` done to a copy. */
  const withIn = (key: string, pos: Pos, set: (m: Map<string, { keyPos: Pos; node: LNode }>) => void) => {
    const have = entries.get(key);
    const node = have?.node.t === 'map' ? have.node : { t: 'map' as const, pos, entries: new Map() };
    const copy = new Map(node.entries);
    set(copy);
    entries.set(key, { keyPos: have?.keyPos ?? pos, node: { ...node, entries: copy } });
  };
  const rules = over.entries.get('rules');
  if (rules) withIn('reactor', rules.keyPos, (reactor) => reactor.set('rules', rules));
  const services = over.entries.get('services');
  if (services?.node.t === 'map') {
    const named = services.node.entries;
    withIn('services', services.keyPos, (mine) => {
      for (const [name, entry] of named) mine.set(name, entry);
    });
  }
  return { ...base, entries };
}

/** Most values one config may expand to: aliases can multiply a small file ("billion laughs"). */
const MAX_VALUES = 2_000_000;

class TooLarge extends Error {
  constructor() {
    super(`the YAML expands to more than ${MAX_VALUES} values (through aliases)`);
  }
}

function flatten(node: LNode, budget: { left: number }, known?: WeakMap<LNode, unknown>): unknown {
  if (--budget.left < 0) throw new TooLarge();
  if (node.t === 'val') return node.value;
  const have = known?.get(node);
  if (have !== undefined) return have;
  if (node.t === 'seq') return node.items.map((item) => flatten(item, budget, known));
  const obj: Record<string, unknown> = {};
  // A key written `__proto__` never gets here: the parse refuses it (it would set the prototype).
  for (const [k, entry] of node.entries) obj[k] = flatten(entry.node, budget, known);
  return obj;
}

/** Keeps each rule's plain value by its node, frozen: a later load of the unchanged file takes it as it is. */
function keepRules(c: Composed, memo: ConfigMemo): void {
  const rules = ruleNodes(c);
  rules?.nodes.forEach((node, i) => {
    if (!memo.values.has(node)) memo.values.set(node, deepFreeze(rules.raw[i]));
  });
}

/** `reactor.rules` as data, each with its node: none when the config has no list there. */
export function ruleNodes(c: Composed): { raw: unknown[]; nodes: LNode[] } | undefined {
  const seq = nodeAt(c, ['reactor', 'rules']);
  const raw = (c.data as { reactor?: { rules?: unknown } } | null | undefined)?.reactor?.rules;
  if (seq?.t !== 'seq' || !Array.isArray(raw) || raw.length !== seq.items.length) return undefined;
  return { raw, nodes: seq.items };
}

/** A node's value without its positions, bounded as a config is. */
export const plainValue = (node: LNode): unknown => flatten(node, { left: MAX_VALUES });

/** Whether `target` (symlinks resolved) lies inside `dir`. */
function inside(dir: string, target: string): boolean {
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    return false;
  }
  const rel = path.relative(dir, real);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * An include glob split where it starts to match: `base`, the directory its leading plain
 * segments name (from `cwd`); `rest`, the pattern from there; `deep`, how many directories below
 * `base` it reaches (no bound with `**`).
 */
function globParts(cwd: string, pattern: string): { base: string; rest: string; deep: number } {
  const segments = pattern.split('/');
  let plain = 0;
  while (plain < segments.length - 1 && !isDynamicPattern(segments[plain]!)) plain++;
  const head = segments.slice(0, plain).join('/');
  const rest = segments.slice(plain);
  return {
    // `/x*/…`: the plain part is the root.
    base: plain > 0 && head === '' ? '/' : path.resolve(cwd, head || '.'),
    rest: rest.join('/'),
    deep: rest.some((r) => r.includes('**')) ? Number.POSITIVE_INFINITY : rest.length - 1,
  };
}

/** A file that marks the top of a config tree (the repository's root has one). */
export const TREE_MARKER = '.pitcrew-root';

/**
 * The directory tree a config's includes must stay in: the nearest directory at or above the
 * config's own that holds a `.pitcrew-root` file, else the config's own directory. Symlinks resolved.
 */
export function configTree(file: string): string {
  let dir: string;
  try {
    dir = realpathSync(path.dirname(path.resolve(file)));
  } catch {
    return path.dirname(path.resolve(file));
  }
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, TREE_MARKER))) return d;
    if (d === path.dirname(d)) return dir;
  }
}

/**
 * Reads a config file and everything it includes, merged into one value with positions. `within`
 * (a git checkout) bounds the tree: the file itself must lie inside it, as an include must. With a
 * `memo`, a file whose text is unchanged since the last load is not parsed again. `overlay`: a
 * bundle's overlay file, laid over what the config file and its includes say (`layOverTree`).
 */
export function compose(
  file: string,
  env: Env,
  issues: ConfigIssue[],
  within?: string,
  memo?: ConfigMemo,
  overlay?: string,
): Composed {
  const root = path.resolve(file);
  const tree = within ? realpathSync(within) : configTree(root);
  if (within && !inside(tree, root)) {
    issues.push({
      file: root,
      line: 1,
      column: 1,
      path: '',
      message: `config file ${root} is outside ${tree} (a symlink out of the checkout?); it was not read`,
    });
    return { data: undefined, tree: undefined, files: [root], warnings: [] };
  }
  // An include outside the config's own directory tree is refused before it is read, so no
  // error can echo a file the config has no business with (`include: [/etc/shadow]`).
  const allowed = (target: string, pos: Pos): boolean => {
    if (inside(tree, target)) return true;
    issues.push({
      ...pos,
      path: 'include',
      message: `included file ${target} is outside the config's directory tree ${tree}; includes stay inside it (a ${TREE_MARKER} file marks a wider tree's top)`,
    });
    return false;
  };
  const out: Composed = { data: undefined, tree: undefined, files: [], warnings: [] };
  const seen = new Set<string>();
  let merged: LNode | undefined;

  const visit = (f: string, from?: Pos) => {
    if (seen.has(f)) return;
    seen.add(f);
    out.files.push(f);
    const node = readSource(f, env, issues, from, memo);
    if (!node) return;
    if (from && node.t !== 'map') {
      issues.push({ ...node.pos, path: '', message: 'an included file must be a map of config sections' });
      return;
    }
    merged = merged ? merge(merged, node, [], issues) : node;
    for (const { pattern, pos } of includesOf(node, issues)) {
      const cwd = path.dirname(f);
      if (!isDynamicPattern(pattern)) {
        const target = path.resolve(cwd, pattern);
        if (!existsSync(target)) {
          issues.push({ ...pos, path: 'include', message: `included file ${pattern} not found` });
          continue;
        }
        if (allowed(target, pos)) visit(target, pos);
        continue;
      }
      const { base, rest, deep } = globParts(cwd, pattern);
      // Searched only inside the tree, and no deeper than the pattern reaches: a glob that climbs
      // out (`../../x*/*.yaml`) would walk the whole disk before any match was refused.
      if (existsSync(base) && !inside(tree, base) && realpathSync(base) !== tree) {
        issues.push({
          ...pos,
          path: 'include',
          message: `${pattern} looks in ${base}, outside the config's directory tree ${tree}; includes stay inside it`,
        });
        continue;
      }
      const matches = existsSync(base)
        ? globSync(rest, { cwd: base, absolute: true, onlyFiles: true, deep }).sort()
        : [];
      // Allowed (a rules directory may be empty), but a copied config losing its rules looks the same.
      if (matches.length === 0)
        out.warnings.push({ ...pos, path: 'include', message: `${pattern} matches no file in ${cwd}` });
      for (const match of matches) if (allowed(match, pos)) visit(match, pos);
    }
  };
  visit(root);
  if (overlay) {
    out.files.push(overlay);
    const over = readSource(overlay, env, issues, undefined, memo);
    if (over && merged) merged = layOverTree(merged, over, issues);
  }
  out.tree = merged;
  if (!merged) return out;
  try {
    out.data = flatten(merged, { left: MAX_VALUES }, memo?.values);
    if (memo) keepRules(out, memo);
  } catch (e) {
    if (!(e instanceof TooLarge)) throw e;
    issues.push({ ...merged.pos, path: '', message: `expands to more than ${MAX_VALUES} values (aliases?)` });
    out.tree = undefined;
  }
  return out;
}

/** The node at a key path, if the config has one there. */
export function nodeAt(c: Composed, p: KeyPath): LNode | undefined {
  let node = c.tree;
  for (const seg of p) {
    if (node?.t === 'map') node = node.entries.get(String(seg))?.node;
    else if (node?.t === 'seq' && typeof seg === 'number') node = node.items[seg];
    else return undefined;
  }
  return node;
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
