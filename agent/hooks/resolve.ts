import { loadModule } from '../core/load-module.js';
import { didYouMean } from '../core/suggest.js';
import type { HandlerFn, HookContext, HookFns, HookKind } from '../core/types.js';
import { errors } from './errors.js';
import { BUILTIN_HOOKS, MODULE_REF_RE } from './registry.js';
import type { HookDef } from './types.js';

/** Where a service's step names can come from. */
export interface StepScope {
  /** The service's own hooks (`services.<name>.hooks`), by name. */
  local: ReadonlyMap<string, { kind: string; use: string; args?: unknown }>;
  /** The driver's commands; 'any' for a module service, whose commands exist only once it runs. */
  handlers: readonly string[] | 'any';
  /** Hooks the driver declares. */
  driverHooks: readonly HookDef[];
}

/** What a step name resolved to. */
export type Step =
  | { from: 'command'; command: string; args: Record<string, unknown> }
  | { from: 'hook'; def: HookDef; args: unknown }
  | { from: 'module'; file: string; fn: string; args: Record<string, unknown> };

const argsOf = (a: unknown): Record<string, unknown> =>
  a !== null && typeof a === 'object' && !Array.isArray(a) ? (a as Record<string, unknown>) : {};

/**
 * The one name resolution (DESIGN §3.1), for config checks and for the running agent alike: the
 * service's own hooks, then (for handlers) the driver's commands, the driver's hooks, the built-in
 * library, and a module function `./path/file.js#export`. Throws a catalogued error naming what is wrong.
 */
export function resolveStep(name: string, kind: HookKind, scope: StepScope): Step {
  const local = scope.local.get(name);
  if (local) {
    if (local.kind !== kind) throw errors.HOOK_KIND(name, local.kind, kind);
    return resolveUse(local.use, kind, scope, argsOf(local.args), name);
  }
  return resolveUse(name, kind, scope, {}, undefined);
}

function resolveUse(
  use: string,
  kind: HookKind,
  scope: StepScope,
  args: Record<string, unknown>,
  via: string | undefined,
): Step {
  const commands = scope.handlers;
  if (kind === 'handler' && (commands === 'any' ? !MODULE_REF_RE.test(use) : commands.includes(use)))
    return { from: 'command', command: use, args };
  const def = scope.driverHooks.find((h) => h.name === use) ?? BUILTIN_HOOKS.get(use);
  if (def) {
    if (def.kind !== kind) throw errors.HOOK_KIND(use, def.kind, kind);
    return { from: 'hook', def, args };
  }
  const m = MODULE_REF_RE.exec(use);
  if (m) return { from: 'module', file: m[1]!, fn: m[2]!, args };
  const same = [
    ...(via ? [] : scope.local.keys()),
    ...scope.driverHooks.filter((h) => h.kind === kind).map((h) => h.name),
    ...[...BUILTIN_HOOKS.values()].filter((h) => h.kind === kind).map((h) => h.name),
    ...(kind === 'handler' && commands !== 'any' ? commands : []),
  ];
  const has = kind === 'handler' && commands !== 'any' ? `; this driver has ${commands.join(', ')}` : '';
  throw errors.HOOK_UNKNOWN(kind, use, `${didYouMean(use, same)}${has}`);
}

/** Builds a resolved step into the function a pipeline calls. */
export async function buildStep<K extends HookKind>(
  step: Step,
  _kind: K,
  ctx: HookContext,
  handlers: Readonly<Record<string, HandlerFn>>,
): Promise<HookFns[K]> {
  // Each branch builds the kind `step` was resolved for; TypeScript cannot tie a generic K to the union.
  switch (step.from) {
    case 'command': {
      // Only the driver's own handlers: never `constructor`, `toString` or anything inherited.
      const fn = Object.hasOwn(handlers, step.command) ? handlers[step.command] : undefined;
      if (typeof fn !== 'function')
        throw errors.HANDLER_UNKNOWN(ctx.service, step.command, Object.keys(handlers));
      const bound = step.args;
      const handler: HandlerFn = Object.keys(bound).length ? (a) => fn({ ...bound, ...a }) : fn;
      return handler as HookFns[K];
    }
    case 'hook':
      return step.def.build(step.args, ctx) as HookFns[K];
    case 'module': {
      const mod = await loadModule(step.file);
      const fn = Object.hasOwn(mod, step.fn) ? mod[step.fn] : undefined;
      if (typeof fn !== 'function') throw errors.MODULE_EXPORT(step.file, step.fn);
      // A module hook gets its args and the context after the step's own input.
      const wrapped = (input: unknown) => (fn as (...a: unknown[]) => unknown)(input, step.args, ctx);
      return wrapped as HookFns[K];
    }
  }
}
