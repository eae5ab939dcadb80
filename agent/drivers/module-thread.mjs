// The entry of a module service's worker thread (`isolation: thread`). Plain JavaScript: a thread's
// entry runs before any TypeScript loader could. It loads the module, runs its service, and speaks
// to the agent by messages: calls in, results, events, logs and failures out.
import { parentPort, workerData } from 'node:worker_threads';

const { file, settings, service, sdk, deps } = workerData;
const post = (m) => parentPort.postMessage(m);
const errorOf = (e) => ({ message: e instanceof Error ? e.message : String(e), code: e?.code });

const ctx = {
  service,
  bus: {
    emit: (tag, data = {}, source = service) => post({ type: 'emit', tag, data, source }),
    on: () => {
      throw new Error('a module in a thread cannot subscribe to the bus');
    },
  },
  clock: {
    now: () => Date.now(),
    setTimeout: (fn, ms) => {
      const h = setTimeout(fn, ms);
      return { cancel: () => clearTimeout(h) };
    },
  },
  log: Object.fromEntries(
    ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((level) => [
      level,
      (obj, msg) =>
        post({
          type: 'log',
          level,
          obj: typeof obj === 'string' ? {} : obj,
          msg: typeof obj === 'string' ? obj : msg,
        }),
    ]),
  ),
  fail: (e) => post({ type: 'fail', error: errorOf(e) }),
};
ctx.log.child = () => ctx.log;

process.on('uncaughtException', (e) => ctx.fail(e));
process.on('unhandledRejection', (e) => ctx.fail(e));

// Hooks are per thread: this one registers its own, knowing where module dependencies were installed.
globalThis[Symbol.for('pitcrew.moduleDependencies')] = new Map(deps);
await import(sdk);
const mod = await import(file);
// `export default defineService({create})`, or the older `export function createService`.
const svc = await (typeof mod.default?.create === 'function' ? mod.default.create : mod.createService)(
  settings,
  ctx,
);
const handlers = svc.handlers ?? {};
post({ type: 'ready', handlers: Object.keys(handlers) });

parentPort.on('message', async (m) => {
  if (m.type === 'ping') return post({ type: 'pong' });
  if (m.type === 'start')
    // start() may be the service's life: its end (or failure) is reported whenever it comes.
    return Promise.resolve()
      .then(() => svc.start?.())
      .then(
        () => post({ type: 'start-ended' }),
        (e) => ctx.fail(e),
      );
  if (m.type === 'stop') {
    await Promise.resolve(svc.stop?.()).catch(() => {});
    return post({ type: 'stopped' });
  }
  if (m.type === 'call') {
    try {
      const fn = Object.hasOwn(handlers, m.handler) ? handlers[m.handler] : undefined;
      if (typeof fn !== 'function') throw new Error(`no handler '${m.handler}'`);
      const value = await fn(m.args);
      // A result that cannot cross to the agent (a function in it) fails this call only.
      post({ type: 'result', id: m.id, ok: true, value });
    } catch (e) {
      post({ type: 'result', id: m.id, ok: false, error: errorOf(e) });
    }
  }
});
