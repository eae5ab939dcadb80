/**
 * How a user module finds `pitcrew` and the agent's own dependencies wherever it lives: `pitcrew`
 * and `pitcrew/testing` resolve to this agent's SDK; a bare name a module's own tree does not have
 * (`mqtt`, `zod`) resolves from the agent's. Registered by the command before the first user module
 * loads (Node's synchronous module hooks, in the same thread).
 */
import module from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const own = import.meta.url;
/** `.ts` when the agent runs from its sources (tsx), `.js` when built. */
const ext = own.endsWith('.ts') ? '.ts' : '.js';
const SDK: Record<string, string> = {
  pitcrew: new URL(`./sdk${ext}`, own).href,
  'pitcrew/testing': new URL(`./testing${ext}`, own).href,
};
const BARE = /^(?![./]|[a-z][a-z0-9+.-]*:)/i;

/**
 * Module directory → where its own dependencies are installed (`module-deps.ts`). Kept on
 * `globalThis`: the command's bundle and this hook are separate copies of the code.
 */
const shared = globalThis as Record<symbol, Map<string, string> | undefined>;
const KEY = Symbol.for('pitcrew.moduleDependencies');
shared[KEY] ??= new Map();
export const moduleDependencies: Map<string, string> = shared[KEY];

/** The installed dependencies of the module importing, if it has any. */
function installedFor(parentURL: string | undefined): string | undefined {
  if (!parentURL?.startsWith('file:')) return undefined;
  for (const [dir, installed] of moduleDependencies)
    if (parentURL.startsWith(`${pathToFileURL(dir).href}/`))
      return pathToFileURL(path.join(installed, 'package.json')).href;
  return undefined;
}

/**
 * Where the resolution hook's entry is, for another process or thread: beside the bundle's agent
 * when this code runs bundled (`dist/bin/*.cjs`), else beside this file (`.ts` under tsx).
 */
export function sdkRegisterFile(): { file: string; tsx: boolean } {
  const here = fileURLToPath(own);
  if (here.endsWith('.cjs'))
    return { file: path.join(path.dirname(here), '../agent/sdk-register.js'), tsx: false };
  return { file: path.join(path.dirname(here), `sdk-register${ext}`), tsx: ext === '.ts' };
}

let registered = false;

export function registerSdkResolution(): void {
  if (registered || !module.registerHooks) return;
  registered = true;
  module.registerHooks({
    resolve(specifier, context, next) {
      const sdk = SDK[specifier];
      if (sdk) return { url: sdk, shortCircuit: true };
      try {
        return next(specifier, context);
      } catch (e) {
        if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND' || !BARE.test(specifier)) throw e;
        // The module's own installed dependencies first, then the agent's.
        const installed = installedFor(context.parentURL);
        if (installed)
          try {
            return next(specifier, { ...context, parentURL: installed });
          } catch {}
        return next(specifier, { ...context, parentURL: own });
      }
    },
  });
}

/**
 * How the installed command imports user modules: an `import()` in an ES module Node loaded
 * itself. Code from the bundle cannot import(): it is compiled through the compile cache or into
 * the startup snapshot, neither of which has a dynamic-import callback. The resolution hook is
 * registered with the first module: a start without any needs neither this file nor the hook.
 */
export const importModule = (url: string): Promise<unknown> => {
  registerSdkResolution();
  return import(url);
};
