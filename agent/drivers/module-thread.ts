import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DriverContext, DriverInstance, HandlerFn, HandlerOutput } from '../core/types.js';
import { moduleDependencies, sdkRegisterFile } from '../sdk-resolve.js';
import { errors } from './errors.js';

/** The thread's entry sits beside this file, in the sources and in the bundle alike. */
function entry(): string {
  const here = new URL('./module-thread.mjs', import.meta.url);
  if (existsSync(fileURLToPath(here))) return fileURLToPath(here);
  throw errors.MODULE_INVALID('module-thread.mjs (missing from this installation)');
}

type FromThread =
  | { type: 'ready'; handlers: string[] }
  | {
      type: 'result';
      id: number;
      ok: boolean;
      value?: HandlerOutput;
      error?: { message: string; code?: string };
    }
  | { type: 'emit'; tag: string; data: Record<string, unknown>; source: string }
  | { type: 'log'; level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'; obj: object; msg?: string }
  | { type: 'fail'; error: { message: string } }
  | { type: 'pong' }
  | { type: 'start-ended' }
  | { type: 'stopped' };

/** How often the thread is asked whether it is alive. */
const PING_MS = 500;

/**
 * A module service in its own worker thread (`isolation: thread`): a busy loop there freezes
 * only the thread. Handlers are called by message; a thread that stops answering for
 * `hangMs` is terminated and the service fails (the supervisor restarts it). Liveness is real
 * time: a thread runs on the machine's clock whatever clock the agent runs on.
 */
export async function threadedModule(
  file: string,
  settings: unknown,
  ctx: DriverContext,
  hangMs: number,
): Promise<DriverInstance> {
  // The thread resolves `pitcrew` and the module's own dependencies as the agent's thread does.
  const sdk = pathToFileURL(sdkRegisterFile().file).href;
  const deps = [...moduleDependencies];
  const worker = new Worker(entry(), { workerData: { file, settings, service: ctx.service, sdk, deps } });
  const calls = new Map<number, { resolve(v: HandlerOutput): void; reject(e: Error): void }>();
  let nextId = 0;
  let closing = false;
  let lastPong = performance.now();
  let onReady: (names: string[]) => void = () => {};
  let onStartEnded = () => {};
  let onStopped = () => {};
  const ended = (e: Error) => {
    for (const c of calls.values()) c.reject(e);
    calls.clear();
    if (!closing) ctx.fail(e);
  };

  worker.on('message', (m: FromThread) => {
    switch (m.type) {
      case 'ready':
        return onReady(m.handlers);
      case 'result': {
        const c = calls.get(m.id);
        calls.delete(m.id);
        if (m.ok) c?.resolve(m.value);
        else c?.reject(Object.assign(new Error(m.error?.message), { code: m.error?.code }));
        return;
      }
      case 'emit':
        return ctx.bus.emit(m.tag, m.data, m.source);
      case 'log':
        return ctx.log[m.level](m.obj, m.msg);
      case 'fail':
        return ctx.fail(new Error(m.error.message));
      case 'pong':
        lastPong = performance.now();
        return;
      case 'start-ended':
        return onStartEnded();
      case 'stopped':
        return onStopped();
    }
  });
  worker.on('error', (e) => ended(e));
  worker.on('exit', (code) => ended(errors.THREAD_EXITED(ctx.service, code)));

  const names = await new Promise<string[]>((resolve, reject) => {
    onReady = resolve;
    worker.once('error', reject);
    worker.once('exit', (code) => reject(errors.THREAD_EXITED(ctx.service, code)));
  });

  const watch = setInterval(() => {
    if (performance.now() - lastPong > hangMs) {
      clearInterval(watch);
      ctx.fail(errors.THREAD_HUNG(ctx.service, hangMs));
      closing = true;
      void worker.terminate();
      return;
    }
    worker.postMessage({ type: 'ping' });
  }, PING_MS);
  watch.unref();

  const call =
    (handler: string): HandlerFn =>
    (args) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        calls.set(id, { resolve, reject });
        worker.postMessage({ type: 'call', id, handler, args });
      });

  return {
    handlers: Object.fromEntries(names.map((n) => [n, call(n)])),
    start: () =>
      new Promise<void>((resolve) => {
        onStartEnded = resolve;
        worker.postMessage({ type: 'start' });
      }),
    stop: async () => {
      closing = true;
      clearInterval(watch);
      await new Promise<void>((resolve) => {
        onStopped = resolve;
        worker.postMessage({ type: 'stop' });
        // A thread too busy to stop is ended all the same.
        setTimeout(resolve, 2000).unref();
      });
      await worker.terminate();
    },
  };
}
