/** `{{ path }}` templates: paths only, no expressions (DESIGN §3.2). */
import { errors } from './errors.js';

export type TemplatePart = string | { path: string[] };

const TEMPLATE_RE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const SEGMENT_RE = /^(?:[A-Za-z_][\w-]*|\d+)$/;

function splitPath(expr: string): string[] {
  const segs = expr.replace(/\[(\d+)\]/g, '.$1').split('.');
  if (!expr || segs.some((s) => !SEGMENT_RE.test(s))) {
    throw errors.TEMPLATE_INVALID(
      `'{{ ${expr} }}' is not a path (use names joined by dots, like event.data.speed)`,
    );
  }
  return segs;
}

/** Splits a string into literal text and paths; throws PITCREW_TEMPLATE_INVALID on bad syntax. */
export function parseTemplate(s: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of s.matchAll(TEMPLATE_RE)) {
    if (m.index > last) parts.push(s.slice(last, m.index));
    parts.push({ path: splitPath(m[1]!) });
    last = m.index + m[0].length;
  }
  const rest = s.slice(last);
  if (rest.includes('{{') || rest.includes('}}'))
    throw errors.TEMPLATE_INVALID(`unbalanced '{{' / '}}' in '${s}'`);
  if (rest) parts.push(rest);
  return parts;
}

export function hasTemplate(s: string): boolean {
  return s.includes('{{');
}

/** A string that is exactly one template: it renders to the value's own type (a map, a number). */
export function isWholeTemplate(s: string): boolean {
  if (!hasTemplate(s)) return false;
  try {
    const parts = parseTemplate(s);
    return parts.length === 1 && typeof parts[0] !== 'string';
  } catch {
    return false;
  }
}

type Obj = Record<string, unknown>;

/** One step of a path: the key's value; a key that is not there (not merely undefined) is an error. */
function step(cur: unknown, seg: string, path: string[]): unknown {
  if (cur !== null && typeof cur === 'object') {
    const v = (cur as Obj)[seg];
    if (v !== undefined || seg in cur) return v;
  }
  throw errors.TEMPLATE_MISSING(path.join('.'));
}

export function lookup(data: unknown, path: string[]): unknown {
  let cur: unknown = data;
  for (const seg of path) cur = step(cur, seg, path);
  return cur;
}

export type Rendered = (data: unknown) => unknown;

/** A direct accessor for a path: short paths get a closure with their keys built in. */
function accessor(path: string[]): Rendered {
  const [a, b, c] = path as [string, string?, string?];
  switch (path.length) {
    case 1:
      return (d) => step(d, a, path);
    case 2:
      return (d) => step(step(d, a, path), b!, path);
    case 3:
      return (d) => step(step(step(d, a, path), b!, path), c!, path);
    default:
      return (d) => lookup(d, path);
  }
}

/** Renders a string; one that is exactly one template keeps the value's type. */
function compileString(s: string): Rendered {
  if (!hasTemplate(s)) return () => s;
  const parts = parseTemplate(s).map((p) => (typeof p === 'string' ? p : accessor(p.path)));
  const only = parts.length === 1 ? parts[0] : undefined;
  if (typeof only === 'function') return only;
  return (data) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = p(data);
        out += typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
      }
    }
    return out;
  };
}

/**
 * Compiled templates by their JSON: rules that render the same template (the same alert's data
 * from hundreds of rules) share one function, which stays hot, rather than each its own cold copy.
 * Bounded: past that many it starts over.
 */
const shared = new Map<string, Rendered>();
const MAX_SHARED = 4096;

/** Parses every template inside a value once; the result renders it against data. */
export function compileTemplate(value: unknown): Rendered {
  const key = jsonKey(value);
  if (key === undefined) return compileValue(value);
  let made = shared.get(key);
  if (made === undefined) {
    made = compileValue(value);
    if (shared.size >= MAX_SHARED) shared.clear();
    shared.set(key, made);
  }
  return made;
}

/**
 * The value's JSON when that says all of it: plain data only (strings, finite numbers but -0,
 * booleans, null, lists, plain objects). Anything else (undefined, NaN, a Date) is not shared.
 */
function jsonKey(value: unknown): string | undefined {
  const plain = (v: unknown): boolean => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
    if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
    if (Array.isArray(v)) return v.every(plain);
    if (typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false;
    return Object.values(v).every(plain);
  };
  return plain(value) ? JSON.stringify(value) : undefined;
}

function compileValue(value: unknown): Rendered {
  if (typeof value === 'string') return compileString(value);
  if (Array.isArray(value)) {
    const items = value.map(compileValue);
    return (data) => items.map((f) => f(data));
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    const fns = keys.map((k) => compileValue((value as Obj)[k]));
    if (keys.length === 0) return () => ({});
    // Rendering allocates only the result, its keys always set in the same order (one shape).
    return (data) => {
      const out: Obj = {};
      for (let i = 0; i < keys.length; i++) out[keys[i]!] = fns[i]!(data);
      return out;
    };
  }
  return () => value;
}
