import type { ConfigT } from './schema.js';

/** What changed in one keyed collection: names added, removed, changed, and kept as they were. */
export interface KeyedDiff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

/** What changed between a running config and a new one (DESIGN §8): what apply must touch. */
export interface ConfigDiff {
  services: KeyedDiff;
  rules: KeyedDiff;
  /** Other top-level sections that differ (`cloud`, `unit`, `control` …): only a restart applies them. */
  sections: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function keyed<T>(a: Record<string, T>, b: Record<string, T>): KeyedDiff {
  const d: KeyedDiff = { added: [], removed: [], changed: [], unchanged: [] };
  for (const k of Object.keys(b)) {
    if (!(k in a)) d.added.push(k);
    else (same(a[k], b[k]) ? d.unchanged : d.changed).push(k);
  }
  for (const k of Object.keys(a)) if (!(k in b)) d.removed.push(k);
  return d;
}

/** Sections a running agent takes on without a restart. */
const LIVE = new Set(['services', 'reactor', 'include', 'version']);

export function diffConfigs(a: ConfigT, b: ConfigT): ConfigDiff {
  const byName = (c: ConfigT) => Object.fromEntries(c.reactor.rules.map((r) => [r.name, r]));
  const sections = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => !LIVE.has(k) && !same(a[k as keyof ConfigT], b[k as keyof ConfigT]),
  );
  if (a.reactor.max_depth !== b.reactor.max_depth) sections.push('reactor.max_depth');
  return { services: keyed(a.services, b.services), rules: keyed(byName(a), byName(b)), sections };
}

/** Whether a diff changes anything at all. */
export const isEmpty = (d: ConfigDiff) =>
  !d.sections.length &&
  [d.services, d.rules].every((k) => !k.added.length && !k.removed.length && !k.changed.length);
