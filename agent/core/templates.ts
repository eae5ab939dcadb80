/** `{{ path }}` templates: paths only, no expressions (DESIGN §3.2). */

export type TemplatePart = string | { path: string[] };

const TEMPLATE_RE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const SEGMENT_RE = /^(?:[A-Za-z_][\w-]*|\d+)$/;

export class TemplateError extends Error {}

function splitPath(expr: string): string[] {
  const segs = expr.replace(/\[(\d+)\]/g, '.$1').split('.');
  if (!expr || segs.some((s) => !SEGMENT_RE.test(s))) {
    throw new TemplateError(
      `'{{ ${expr} }}' is not a path (use names joined by dots, like event.data.speed)`,
    );
  }
  return segs;
}

/** Splits a string into literal text and paths; throws TemplateError on bad syntax. */
export function parseTemplate(s: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of s.matchAll(TEMPLATE_RE)) {
    if (m.index > last) parts.push(s.slice(last, m.index));
    parts.push({ path: splitPath(m[1]!) });
    last = m.index + m[0].length;
  }
  const rest = s.slice(last);
  if (rest.includes('{{') || rest.includes('}}')) throw new TemplateError(`unbalanced '{{' / '}}' in '${s}'`);
  if (rest) parts.push(rest);
  return parts;
}

export function hasTemplate(s: string): boolean {
  return s.includes('{{');
}

export class MissingPathError extends Error {}

export function lookup(data: unknown, path: string[]): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || !(seg in (cur as object))) {
      throw new MissingPathError(`'${path.join('.')}' is not set`);
    }
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Renders a string; one that is exactly one template keeps the value's type. */
export function renderString(s: string, data: unknown): unknown {
  if (!hasTemplate(s)) return s;
  const parts = parseTemplate(s);
  if (parts.length === 1 && typeof parts[0] !== 'string') return lookup(data, parts[0]!.path);
  return parts
    .map((p) => {
      if (typeof p === 'string') return p;
      const v = lookup(data, p.path);
      return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
    })
    .join('');
}

/** Renders every string inside a value. */
export function render(value: unknown, data: unknown): unknown {
  if (typeof value === 'string') return renderString(value, data);
  if (Array.isArray(value)) return value.map((v) => render(v, data));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = render(v, data);
    return out;
  }
  return value;
}
