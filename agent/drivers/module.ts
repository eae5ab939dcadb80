import path from 'node:path';
import * as z from 'zod';
import { loadModule } from '../core/load-module.js';
import type { DriverContext, DriverInstance, HandlerFn } from '../core/types.js';
import { errors } from '../errors.js';
import { defineDriver } from './types.js';

/** A module service's own settings are checked by the schema the module exports. */
export const ModuleSettings = z.looseObject({ module: z.string().min(1) });

/**
 * What a service module exports:
 *   export const settings = z.object({…})           (optional: checks its settings)
 *   export function createService(settings, ctx) { return { start?, stop?, handlers } }
 * `ctx` has `service`, `bus` (emit events), `clock`, `log` and `fail(err)`.
 */
interface ServiceModule {
  settings?: { safeParse(v: unknown): { success: boolean; data?: unknown; error?: { message: string } } };
  createService(
    settings: unknown,
    ctx: DriverContext,
  ): Partial<DriverInstance> & { handlers?: Record<string, HandlerFn> };
}

export const moduleDriver = defineDriver({
  name: 'module',
  settings: ModuleSettings,
  handlers: 'any',
  files: () => [['module']],
  async create(settings, ctx) {
    const file = path.resolve(ctx.baseDir, settings.module);
    const mod = (await loadModule(file)) as Partial<ServiceModule>;
    if (typeof mod.createService !== 'function') throw errors.MODULE_INVALID(settings.module);
    const { module: _file, ...own } = settings;
    let checked: unknown = own;
    if (mod.settings) {
      const r = mod.settings.safeParse(own);
      if (!r.success) throw errors.MODULE_SETTINGS(settings.module, r.error?.message ?? 'invalid');
      checked = r.data;
    }
    const svc = mod.createService(checked, ctx);
    return {
      handlers: svc.handlers ?? {},
      start: async () => svc.start?.(),
      stop: async () => svc.stop?.(),
    };
  },
});
