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
  const mod = (await importer(have ? `${url}?v=${mtime}` : url)) as Record<string, unknown>;
  loaded.set(file, { mtime, mod });
  return mod;
}
