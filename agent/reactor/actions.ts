import { execFile } from 'node:child_process';
import type { ActionT } from '../../schemas/reactor.js';
import { errorText } from '../core/pipeline.js';
import { compileTemplate } from '../core/templates.js';
import type { Result } from '../hooks/types.js';
import type { ReactorHost } from './host.js';
import { compile, truthy } from './logic.js';
import type { ActionTrace } from './traces.js';

/** What templates and conditions see during a run (DESIGN §3.2), plus `result` from `call`/`exec`. */
export interface RunData {
  event: unknown;
  match: readonly string[];
  signals: unknown;
  state: unknown;
  unit: unknown;
  now: number;
  result?: unknown;
}

/** One run of a rule's actions. */
export interface Run {
  data: RunData;
  actions: ActionTrace[];
  cancelled: boolean;
  /** Cancels a pending `wait`. */
  cancelWait?: () => void;
  /** Source of events the run emits. */
  source: string;
}

/** Ends the run, successfully. */
export const STOP = Symbol('stop');

export type Outcome = unknown | typeof STOP | Promise<unknown>;

export interface CompiledAction {
  name: string;
  /** Side effects a dry run (replay) also performs: `emit` and `state` only. */
  live: boolean;
  run(run: Run): Outcome;
}

export interface ActionEnv {
  host: ReactorHost;
  dry: boolean;
}

type Body<K extends string> = Extract<ActionT, Record<K, unknown>>[K &
  keyof Extract<ActionT, Record<K, unknown>>];

/** An action whose subsystem this build lacks: it fails plainly in the trace. */
function notInThisBuild(name: string, what: string): CompiledAction {
  return {
    name,
    live: false,
    run: () => {
      throw new Error(`${name} needs ${what}, which this build of pitcrew does not have yet`);
    },
  };
}

function compileOne(action: ActionT, env: ActionEnv): CompiledAction {
  const { host } = env;
  const name = Object.keys(action)[0]!;
  const body = (action as Record<string, unknown>)[name];
  switch (name) {
    case 'emit': {
      const b = body as Body<'emit'>;
      const tag = compileTemplate(b.tag);
      const data = compileTemplate(b.data ?? {});
      return {
        name,
        live: true,
        run: (r) => {
          const d = data(r.data);
          host.bus.emit(
            String(tag(r.data)),
            d !== null && typeof d === 'object' ? (d as Record<string, unknown>) : { value: d },
            r.source,
          );
        },
      };
    }
    case 'state': {
      const b = body as Body<'state'>;
      if ('delete' in b) {
        const key = compileTemplate(b.delete);
        return { name, live: true, run: (r) => host.state.delete(String(key(r.data))) };
      }
      const key = compileTemplate(b.set);
      const value = compileTemplate(b.value);
      return { name, live: true, run: (r) => host.state.set(String(key(r.data)), value(r.data)) };
    }
    case 'log': {
      const b = body as Body<'log'>;
      const message = compileTemplate(b.message);
      return {
        name,
        live: false,
        run: (r) => host.log[b.level]({ source: r.source }, String(message(r.data))),
      };
    }
    case 'wait': {
      const ms = body as number;
      return {
        name,
        live: false,
        run: (r) =>
          new Promise<void>((resolve) => {
            const timer = host.clock.setTimeout(resolve, ms);
            r.cancelWait = () => {
              timer.cancel();
              resolve();
            };
          }),
      };
    }
    case 'call': {
      const b = body as Body<'call'>;
      const args = compileTemplate(b.args);
      return {
        name,
        live: false,
        run: async (r) => {
          r.data.result = await host.call(b.service, b.handler, args(r.data) as Record<string, unknown>);
        },
      };
    }
    case 'worker': {
      const b = body as Body<'worker'>;
      return { name, live: false, run: () => host.worker(b.service, b.name, b.action) };
    }
    case 'return': {
      const b = body as Body<'return'>;
      const data = compileTemplate(b.data);
      return {
        name,
        live: false,
        run: async (r) => {
          const d = data(r.data) as Partial<Result> | null;
          if (!d || typeof d !== 'object' || typeof d.type !== 'string')
            throw new Error("return data needs a 'type' and a 'value'");
          const returner = await host.returner(b.returner);
          await returner({
            ...d,
            type: d.type,
            value: d.value,
            ts: typeof d.ts === 'number' ? d.ts : host.clock.now(),
          });
        },
      };
    }
    case 'exec': {
      const b = body as Body<'exec'>;
      const argv = compileTemplate(b.command);
      return {
        name,
        live: false,
        run: (r) =>
          new Promise((resolve, reject) => {
            const [cmd, ...args] = (argv(r.data) as unknown[]).map(String);
            // An argv, never a shell line: nothing in it is interpreted.
            execFile(cmd!, args, { timeout: b.timeout, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
              if (err) {
                const why = err.killed ? `timed out after ${b.timeout} ms` : errorText(err);
                reject(new Error(`${cmd}: ${why}`));
                return;
              }
              r.data.result = { code: 0, stdout, stderr };
              resolve(r.data.result);
            });
          }),
      };
    }
    case 'publish':
      return notInThisBuild(name, 'the cloud link');
    case 'update':
      return notInThisBuild(name, 'the update manager');
    case 'stop':
      return { name, live: true, run: () => STOP };
    case 'if': {
      const b = body as Body<'if'>;
      const when = compile(b.when, { timezone: host.unit.timezone });
      const then = compileActions(b.then, env);
      const otherwise = compileActions(b.else, env);
      return {
        name,
        live: true,
        run: (r) => execute(r, truthy(when(r.data)) ? then : otherwise, env),
      };
    }
    default:
      throw new Error(`unknown action '${name}'`);
  }
}

export function compileActions(actions: readonly ActionT[], env: ActionEnv): CompiledAction[] {
  return actions.map((a) => compileOne(a, env));
}

/** An action's trace entry; every field present, so all entries share one shape. */
function traced(action: string, ok: boolean, ms: number, error?: string, dry?: true): ActionTrace {
  return { action, ok, ms, error, dry };
}

/**
 * Runs actions in order, synchronously until one returns a promise, so a run of plain actions
 * (emit, state) costs no promise at all. Resolves (or returns) STOP when a `stop` ended the run;
 * a failing action ends the run by throwing.
 */
export function execute(run: Run, actions: CompiledAction[], env: ActionEnv, from = 0): Outcome {
  // The bus's instant: synchronous actions inside a dispatch cost no clock read at all.
  const clock = env.host.bus;
  // One clock read per action: each action's end is the next one's start.
  let t0 = clock.now();
  for (let i = from; i < actions.length; i++) {
    if (run.cancelled) return STOP;
    const a = actions[i]!;
    if (env.dry && !a.live) {
      run.actions.push(traced(a.name, true, 0, undefined, true));
      continue;
    }
    let out: Outcome;
    try {
      out = a.run(run);
    } catch (e) {
      run.actions.push(traced(a.name, false, clock.now() - t0, errorText(e)));
      throw e;
    }
    if (out instanceof Promise) {
      return out.then(
        (v) => {
          run.actions.push(traced(a.name, true, clock.now() - t0));
          return v === STOP ? STOP : execute(run, actions, env, i + 1);
        },
        (e) => {
          run.actions.push(traced(a.name, false, clock.now() - t0, errorText(e)));
          throw e;
        },
      );
    }
    const t1 = clock.now();
    run.actions.push(traced(a.name, true, t1 - t0));
    t0 = t1;
    if (out === STOP) return STOP;
  }
  return undefined;
}
