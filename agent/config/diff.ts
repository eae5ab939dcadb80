import { sameJson } from '../core/same-json.js';
import { allRules } from './rules.js';
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

function keyed<T>(a: Record<string, T>, b: Record<string, T>): KeyedDiff {
  const d: KeyedDiff = { added: [], removed: [], changed: [], unchanged: [] };
  for (const k of Object.keys(b)) {
    if (!(k in a)) d.added.push(k);
    else (sameJson(a[k], b[k]) ? d.unchanged : d.changed).push(k);
  }
  for (const k of Object.keys(a)) if (!(k in b)) d.removed.push(k);
  return d;
}

/** The module files a service runs: its driver's module and the module functions its hooks and steps name. */
export function moduleFiles(service: ConfigT['services'][string]): string[] {
  const files = new Set<string>();
  const settings = service.settings as { module?: unknown };
  if (service.driver === 'module' && typeof settings.module === 'string') files.add(settings.module);
  const ref = (v: string) => {
    const i = v.lastIndexOf('#');
    if (i > 0 && (v.startsWith('/') || v.startsWith('.'))) files.add(v.slice(0, i));
  };
  for (const h of service.hooks) ref(h.use);
  for (const w of service.workers)
    for (const m of w.messages)
      for (const step of [m.handler, ...m.converter, ...m.trigger, ...m.filter, ...m.enricher, ...m.returner])
        ref(step);
  return [...files];
}

/**
 * `changedFiles`: module files whose code changed since the running config was applied; a service
 * that runs one of them counts as changed (module code is config too).
 */
export function diffConfigs(
  a: ConfigT,
  b: ConfigT,
  /** Top-level sections a running agent takes on without a restart (the registry says which). */
  live: ReadonlySet<string>,
  changedFiles: ReadonlySet<string> = new Set(),
): ConfigDiff {
  const byName = (c: ConfigT) => Object.fromEntries(allRules(c).map((r) => [r.name, r]));
  const sections = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => !live.has(k) && !sameJson(a[k as keyof ConfigT], b[k as keyof ConfigT]),
  );
  if (a.reactor.max_depth !== b.reactor.max_depth) sections.push('reactor.max_depth');
  // A service's own rules change with the rule set: the service itself keeps running.
  const withoutRules = (c: ConfigT) =>
    Object.fromEntries(Object.entries(c.services).map(([n, { reactors: _r, ...s }]) => [n, s]));
  const services = keyed(withoutRules(a), withoutRules(b));
  const touched = services.unchanged.filter((n) =>
    moduleFiles(b.services[n]!).some((f) => changedFiles.has(f)),
  );
  services.unchanged = services.unchanged.filter((n) => !touched.includes(n));
  services.changed.push(...touched);
  return { services, rules: keyed(byName(a), byName(b)), sections };
}
