/**
 * How a user module finds `pitcrew` and the agent's own dependencies wherever it lives: `pitcrew`
 * and `pitcrew/testing` resolve to this agent's SDK; a bare name a module's own tree does not have
 * (`mqtt`, `zod`) resolves from the agent's. Registered by the command before anything loads (Node's
 * synchronous module hooks, in the same thread).
 */
import module from 'node:module';

const own = import.meta.url;
/** `.ts` when the agent runs from its sources (tsx), `.js` when built. */
const ext = own.endsWith('.ts') ? '.ts' : '.js';
const SDK: Record<string, string> = {
  pitcrew: new URL(`./sdk${ext}`, own).href,
  'pitcrew/testing': new URL(`./testing${ext}`, own).href,
};
const BARE = /^(?![./]|[a-z][a-z0-9+.-]*:)/i;

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
        return next(specifier, { ...context, parentURL: own });
      }
    },
  });
}
