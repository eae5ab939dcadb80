import path from 'node:path';
import { ModuleSettings } from '../../schemas/drivers.js';
import { loadModule } from '../core/load-module.js';
import type { HandlerFn } from '../hooks/types.js';
import { type DriverContext, DriverError, type DriverInstance, defineDriver } from './types.js';

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
  async create(settings, ctx) {
    const file = path.resolve(ctx.baseDir, settings.module);
    const mod = (await loadModule(file)) as Partial<ServiceModule>;
    if (typeof mod.createService !== 'function') {
      throw new DriverError(
        `${settings.module} does not export createService(settings, ctx)`,
        'PITCREW_MODULE_INVALID',
      );
    }
    const { module: _file, ...own } = settings;
    let checked: unknown = own;
    if (mod.settings) {
      const r = mod.settings.safeParse(own);
      if (!r.success)
        throw new DriverError(
          `settings rejected by ${settings.module}: ${r.error?.message}`,
          'PITCREW_MODULE_SETTINGS',
        );
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
