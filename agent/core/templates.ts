/** `{{ path }}` templates: paths only, no expressions (DESIGN §3.2). */
import { errors } from '../errors.js';

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

export function lookup(data: unknown, path: string[]): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || !(seg in (cur as object))) {
      throw errors.TEMPLATE_MISSING(path.join('.'));
    }
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

export type Rendered = (data: unknown) => unknown;

/** Renders a string; one that is exactly one template keeps the value's type. */
function compileString(s: string): Rendered {
  if (!hasTemplate(s)) return () => s;
  const parts = parseTemplate(s);
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only !== undefined && typeof only !== 'string') return (data) => lookup(data, only.path);
  return (data) =>
    parts
      .map((p) => {
        if (typeof p === 'string') return p;
        const v = lookup(data, p.path);
        return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
      })
      .join('');
}

/** Parses every template inside a value once; the result renders it against data. */
export function compileTemplate(value: unknown): Rendered {
  if (typeof value === 'string') return compileString(value);
  if (Array.isArray(value)) {
    const items = value.map(compileTemplate);
    return (data) => items.map((f) => f(data));
  }
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).map(([k, v]) => [k, compileTemplate(v)] as const);
    if (fields.length === 0) return () => ({});
    return (data) => {
      const out: Record<string, unknown> = {};
      for (const [k, f] of fields) out[k] = f(data);
      return out;
    };
  }
  return () => value;
}
