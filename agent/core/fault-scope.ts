import { asyncScope } from './async-scope.js';
import { asError } from './errors.js';

/** Who an error belongs to: a service's `fail`, which restarts that service. */
type Owner = (reason: Error) => void;

const scope = asyncScope<Owner>();
const fallbacks = new Set<(reason: Error) => void>();
let installed = false;

/**
 * An error thrown from a timer, or a promise left rejected, by code running under `owned` (and
 * everything it scheduled) is handed to its owner instead of exiting the process; one with no
 * owner goes to the fallbacks (the agent logs it and emits system/agent/error).
 */
function onFault(e: unknown): void {
  const owner = scope.getStore();
  const err = asError(e);
  if (owner) owner(err);
  else for (const f of fallbacks) f(err);
}

/** Runs `fn` (and all it schedules) as `owner`'s code. */
export function owned<T>(owner: Owner, fn: () => T): T {
  return scope.run(owner, fn);
}

/** Keeps the process alive through stray errors while `fallback` is registered; returns the unregister. */
export function catchStrayErrors(fallback: (reason: Error) => void): () => void {
  fallbacks.add(fallback);
  if (!installed) {
    installed = true;
    process.on('uncaughtException', onFault);
    process.on('unhandledRejection', onFault);
  }
  return () => {
    fallbacks.delete(fallback);
    if (fallbacks.size === 0 && installed) {
      installed = false;
      process.off('uncaughtException', onFault);
      process.off('unhandledRejection', onFault);
    }
  };
}
