import { type ActionEnv, type CompiledAction, type Outcome, type Run, STOP } from './actions/types.js';
import { errorCode, errors, errorText } from './errors.js';

/** Records an action's outcome in the run's trace. */
function traced(
  env: ActionEnv,
  run: Run,
  action: string,
  ok: boolean,
  ms: number,
  e?: unknown,
  dry?: true,
): void {
  if (e === undefined) env.traces.action(run.trace, action, ok, ms, undefined, undefined, dry);
  else env.traces.action(run.trace, action, ok, ms, errorText(e), errorCode(e), dry);
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
      traced(env, run, a.name, true, 0, undefined, true);
      continue;
    }
    let out: Outcome;
    const prev = clock.enter(run.cause);
    try {
      out = a.carries ? clock.carry(run.cause, () => a.run(run)) : a.run(run);
    } catch (e) {
      traced(env, run, a.name, false, clock.now() - t0, e);
      throw e;
    } finally {
      clock.leave(prev);
    }
    if (out instanceof Promise) {
      return out.then(
        (v) => {
          if (run.cancelled) {
            traced(env, run, a.name, false, clock.now() - t0, errors.RUN_CANCELLED(run.source));
            return STOP;
          }
          traced(env, run, a.name, true, clock.now() - t0);
          return v === STOP ? STOP : execute(run, actions, env, i + 1);
        },
        (e) => {
          traced(
            env,
            run,
            a.name,
            false,
            clock.now() - t0,
            run.cancelled ? errors.RUN_CANCELLED(run.source) : e,
          );
          if (run.cancelled) return STOP;
          throw e;
        },
      );
    }
    const t1 = clock.now();
    traced(env, run, a.name, true, t1 - t0);
    t0 = t1;
    if (out === STOP) return STOP;
  }
  return undefined;
}
