import { AsyncLocalStorage } from 'node:async_hooks';

const scopes: AsyncLocalStorage<unknown>[] = [];

/** An AsyncLocalStorage of the agent's: one `releaseAsyncScopes` turns off. */
export function asyncScope<T>(): AsyncLocalStorage<T> {
  const scope = new AsyncLocalStorage<T>();
  scopes.push(scope as AsyncLocalStorage<unknown>);
  return scope;
}

/**
 * Every scope off until it runs again. On Node 22 a scope that has run keeps Node's promise hooks
 * on, and a process with them on cannot be saved as a startup snapshot: the snapshot's rehearsed
 * start (cli/rehearsal.ts) runs the agent's scopes, then releases them.
 */
export function releaseAsyncScopes(): void {
  for (const scope of scopes) scope.disable();
}
