import { pathToFileURL } from 'node:url';

export type ModuleImporter = (url: string) => Promise<unknown>;

let importer: ModuleImporter = (url) => import(url);

/** Replaces how modules are imported (the installed command hands in its own `import()`). */
export function useImporter(fn: ModuleImporter): void {
  importer = fn;
}

/** Modules load once: a service restart reuses the code (and takes no I/O), as a restart should. */
const loaded = new Map<string, Record<string, unknown>>();

/** Imports a user module (service or hook) by absolute path, once. */
export async function loadModule(file: string): Promise<Record<string, unknown>> {
  let mod = loaded.get(file);
  if (!mod) {
    mod = (await importer(pathToFileURL(file).href)) as Record<string, unknown>;
    loaded.set(file, mod);
  }
  return mod;
}
