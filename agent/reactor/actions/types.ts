import type * as z from 'zod';
import type { Cause } from '../../core/bus.js';
import type { Condition } from '../../core/types.js';
import type { ReactorHost } from '../host.js';
import type { SlotId, TraceStore } from '../traces.js';

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
  /** Why it runs: what it emits carries this, so a loop of rules is caught. */
  cause: Cause;
  /** Where its actions' outcomes are recorded, in `ActionEnv.traces`. */
  trace: SlotId;
  cancelled: boolean;
  /** Cancels what the run waits for (a `wait`, a child process). */
  onCancel?: () => void;
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
  /** It awaits code that may emit (`call`, `return`): the run's cause is carried across the await. */
  carries?: boolean;
  /** It sets the run's `result` (`call`, `exec`, or an `if` holding one). */
  writesResult?: boolean;
  run(run: Run): Outcome;
}

/** What compiling an action may use. */
export interface ActionEnv {
  host: ReactorHost;
  dry: boolean;
  /** Where runs are traced. */
  traces: TraceStore;
  /** Compiles nested actions (`if`). */
  compile(actions: readonly unknown[]): CompiledAction[];
  /** Compiles a JsonLogic condition as rules compile theirs. */
  condition(expr: unknown): Condition;
  /** The run data of a dispatch: one shared by the rules that only read it, or (`own`) a rule's own. */
  runData(event: unknown, match: readonly string[], now: number, own: boolean): RunData;
  /** A run of `rule` failed (its `errors`-th failure): said in the log beside its trace. */
  failed(rule: string, error: string, code: string | undefined, errors: number): void;
}

/** Config checks an action makes beyond its schema, on the raw config (paths relative to the action's body). */
export interface ActionCheck {
  add(path: (string | number)[], message: string): void;
  logic(expr: unknown, path: (string | number)[]): void;
  /** Nested actions (`if`). */
  actions(list: unknown, path: (string | number)[]): void;
  /** Templates inside a value: paths only, from the roots a run has. */
  templates(value: unknown, path: (string | number)[]): void;
  /** Reports an unknown service; true when it exists. */
  service(name: string, path: (string | number)[]): boolean;
  worker(service: string, name: string, path: (string | number)[]): void;
  handler(service: string, handler: string, path: (string | number)[]): void;
  returner(name: string, path: (string | number)[]): void;
  /** Whether `updates.<kind>` is configured. */
  updates(kind: string): boolean;
  /** Whether a `cloud` section is configured. */
  cloud(): boolean;
  /** Whether a `power` section is configured. */
  power(): boolean;
}

/** An action as its file declares it. `schema` may take the action union, for actions that nest actions. */
export interface ActionSpec<N extends string, S extends z.ZodType> {
  name: N;
  schema: S | ((action: z.ZodType) => S);
  /** Checks on the raw body; default: the body's templates. */
  check?(body: unknown, cx: ActionCheck): void;
  compile(body: z.output<S>, env: ActionEnv): CompiledAction;
}

/** A registered action. */
export interface ActionDef<N extends string = string, S extends z.ZodType = z.ZodType> {
  name: N;
  schema(action: z.ZodType): S;
  check(body: unknown, cx: ActionCheck): void;
  /** `body` as the rule schema parsed it with this action's schema. */
  compile(body: unknown, env: ActionEnv): CompiledAction;
}

export function defineAction<N extends string, S extends z.ZodType>(spec: ActionSpec<N, S>): ActionDef<N, S> {
  const { schema } = spec;
  return {
    name: spec.name,
    schema: typeof schema === 'function' ? schema : () => schema,
    check: spec.check ?? ((body, cx) => cx.templates(body, [])),
    // The rule schema parsed the body with this schema (transforms applied); parsing again would
    // apply them twice, so the type is restored, not re-checked.
    compile: (body, env) => spec.compile(body as z.output<S>, env),
  };
}
