import * as z from 'zod';
import { call } from './call.js';
import { emit } from './emit.js';
import { exec } from './exec.js';
import { forward } from './forward.js';
import { ifAction } from './if.js';
import { log } from './log.js';
import { power } from './power.js';
import { publish } from './publish.js';
import { returnAction } from './return.js';
import { state } from './state.js';
import { stop } from './stop.js';
import type { ActionDef, ActionEnv, CompiledAction } from './types.js';
import { update } from './update.js';
import { wait } from './wait.js';
import { worker } from './worker.js';

/**
 * Every action a rule can take (DESIGN §3.2). Adding an action: its file (copy `log.ts`), then one
 * line here; the rule schema, its JSON Schema, the names and the config checks follow.
 */
export const ACTIONS = [
  emit,
  publish,
  forward,
  returnAction,
  call,
  worker,
  state,
  update,
  power,
  exec,
  wait,
  log,
  stop,
  ifAction,
] as const;

type OutputOf<D> = D extends ActionDef<infer N, infer S> ? { [K in N]: z.output<S> } : never;
type InputOf<D> = D extends ActionDef<infer N, infer S> ? { [K in N]: z.input<S> } : never;

/** One action as the rule schema gives it: a one-key map. */
export type ActionT = OutputOf<(typeof ACTIONS)[number]>;
type ActionInput = InputOf<(typeof ACTIONS)[number]>;

export const ACTION_NAMES: readonly string[] = ACTIONS.map((a) => a.name);
const BY_NAME: ReadonlyMap<string, ActionDef> = new Map(ACTIONS.map((a) => [a.name, a]));

export const actionNamed = (name: string): ActionDef | undefined => BY_NAME.get(name);

/**
 * The union of every action's one-key map. Built from the registry, so its static type is restated
 * from the registry's types: zod cannot infer a union assembled at run time.
 */
export const Action: z.ZodType<ActionT, ActionInput> = z.union(
  ACTIONS.map((a) => z.strictObject({ [a.name]: a.schema(z.lazy(() => Action)) })),
) as unknown as z.ZodType<ActionT, ActionInput>;

/** Compiles a list of (schema-checked) actions. */
export function compileActions(actions: readonly unknown[], env: ActionEnv): CompiledAction[] {
  return actions.map((a) => {
    const [name, body] = Object.entries(a as object)[0]!;
    return actionNamed(name)!.compile(body, env);
  });
}
