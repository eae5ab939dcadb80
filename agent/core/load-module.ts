import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export type ModuleImporter = (url: string) => Promise<unknown>;

let importer: ModuleImporter = (url) => import(url);

/** Replaces how modules are imported (the installed command hands in its own `import()`). */
export function useImporter(fn: ModuleImporter): void {
  importer = fn;
}

/**
 * Modules load once per version of their file: a service restart reuses the code, and a changed
 * file (a config change that comes with new module code) is imported afresh. (Node keeps the old
 * version's code in memory: modules cannot be unloaded.)
 */
const loaded = new Map<string, { mtime: number; mod: Record<string, unknown> }>();
/** Imports of a file that failed: Node keeps a failed import for its URL, so the next try asks under another. */
const failures = new Map<string, number>();

/** When a module file last changed (0 when it cannot be read: the import will say why). */
export function moduleStamp(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Imports a user module (service or hook) by absolute path: once, and again when the file changed. */
export async function loadModule(file: string): Promise<Record<string, unknown>> {
  const mtime = moduleStamp(file);
  const have = loaded.get(file);
  if (have && have.mtime === mtime) return have.mod;
  const url = pathToFileURL(file).href;
  const tries = failures.get(file) ?? 0;
  const query = [...(have ? [`v=${mtime}`] : []), ...(tries ? [`try=${tries}`] : [])].join('&');
  let mod: Record<string, unknown>;
  try {
    mod = (await importer(query ? `${url}?${query}` : url)) as Record<string, unknown>;
  } catch (e) {
    // Its dependencies installed since, or the file fixed: the next load really tries again.
    failures.set(file, tries + 1);
    throw e;
  }
  loaded.set(file, { mtime, mod });
  return mod;
}
