import type { HookKind, HookT } from '../../schemas/services.js';
import { BUILTIN_HOOK_DEFS, MODULE_REF_RE } from '../hooks/registry.js';
import type { HandlerFn, HookContext, HookDef, HookFns } from '../hooks/types.js';
import { loadModule } from './load-module.js';

/**
 * Turns a step name into a function, in the order of DESIGN §3.1: the service's hooks, the
 * driver's hooks, the built-in library, a module function `path#export`. Config validation has
 * already checked every name; what fails here is a module that does not load.
 */
export class HookResolver {
  private readonly local: Map<string, HookT>;
  private readonly driverHooks: Map<string, HookDef>;

  constructor(
    private readonly ctx: HookContext,
    hooks: HookT[],
    driverHooks: HookDef[],
    private readonly handlers: Record<string, HandlerFn>,
  ) {
    this.local = new Map(hooks.map((h) => [h.name, h]));
    this.driverHooks = new Map(driverHooks.map((h) => [h.name, h]));
  }

  async resolve<K extends HookKind>(name: string, kind: K): Promise<HookFns[K]> {
    if (kind === 'handler' && this.handlers[name] && !this.local.has(name))
      return this.handlers[name] as HookFns[K];
    const local = this.local.get(name);
    if (local) return this.build(local.use, kind, local.args);
    return this.build(name, kind, {});
  }

  private async build<K extends HookKind>(
    use: string,
    kind: K,
    args: Record<string, unknown>,
  ): Promise<HookFns[K]> {
    const def = this.driverHooks.get(use) ?? BUILTIN_HOOK_DEFS.get(use);
    if (def) {
      if (def.kind !== kind) throw new Error(`hook '${use}' is a ${def.kind}, not a ${kind}`);
      return def.create(def.args.parse(args), this.ctx) as HookFns[K];
    }
    if (kind === 'handler' && this.handlers[use]) return this.handlers[use] as HookFns[K];
    const m = MODULE_REF_RE.exec(use);
    if (!m) throw new Error(`unknown ${kind} '${use}'`);
    const mod = await loadModule(m[1]!);
    const fn = mod[m[2]!];
    if (typeof fn !== 'function') throw new Error(`${m[1]} has no exported function '${m[2]}'`);
    // A module hook gets its args and the context after the step's own input.
    return ((input: unknown) => fn(input, args, this.ctx)) as unknown as HookFns[K];
  }
}
