import { pathToFileURL } from 'node:url';

/** Modules load once: a service restart reuses the code (and takes no I/O), as a restart should. */
const loaded = new Map<string, Record<string, unknown>>();

/** Imports a user module (service or hook) by absolute path, once. */
export async function loadModule(file: string): Promise<Record<string, unknown>> {
  let mod = loaded.get(file);
  if (!mod) {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    loaded.set(file, mod);
  }
  return mod;
}
