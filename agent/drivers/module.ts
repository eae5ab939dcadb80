import { existsSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { Duration } from '../../schemas/common.js';
import { loadModule } from '../core/load-module.js';
import type { DriverContext, DriverInstance, HandlerFn } from '../core/types.js';
import { errors } from './errors.js';
import { installModuleDeps } from './module-deps.js';
import { threadedModule } from './module-thread.js';
import { defineDriver, type SettingsProblem } from './types.js';

/** A module service's own settings are checked by the schema the module exports. */
export const ModuleSettings = z.looseObject({
  module: z.string().min(1),
  /** `thread`: the module runs in its own worker thread, so a busy loop there freezes only it. */
  isolation: z.enum(['none', 'thread']).default('none'),
  /** With `isolation: thread`: a thread that does not answer for this long is ended and restarted. */
  hang_timeout: Duration.default(5000),
  /** Packages of the module's own dependencies allowed to run install scripts (native addons), as npm's allowScripts. */
  allow_scripts: z.array(z.string().min(1)).default([]),
});

/**
 * What a service module exports:
 *   export default defineService({ settings: z.object({…}), create(settings, ctx) { return { start?, stop?, handlers } } })
 * or, as before the SDK:
 *   export const settings = z.object({…})           (optional: checks its settings)
 *   export function createService(settings, ctx) { return { start?, stop?, handlers } }
 * `ctx` has `service`, `bus` (emit events), `clock`, `log`, `fail(err)`, `signal` and `read`.
 */
interface ModuleIssue {
  path: PropertyKey[];
  message: string;
}

interface ServiceModule {
  settings?: {
    safeParse(v: unknown): {
      success: boolean;
      data?: unknown;
      error?: { message: string; issues?: ModuleIssue[] };
    };
  };
  createService(
    settings: unknown,
    ctx: DriverContext,
  ): Partial<DriverInstance> & { handlers?: Record<string, HandlerFn> };
}

/** A module's settings, checked by the schema it exports: the parsed settings, or the problems. */
async function moduleSettings(settings: ModuleSettingsT, baseDir: string) {
  const mod = serviceModule(await loadModule(path.resolve(baseDir, settings.module)));
  if (!mod) throw errors.MODULE_INVALID(settings.module);
  const { module: _file, isolation: _i, hang_timeout: _h, allow_scripts: _a, ...own } = settings;
  const r = mod.settings?.safeParse(own) ?? { success: true, data: own };
  const problems: SettingsProblem[] = r.success
    ? []
    : (r.error?.issues ?? [{ path: [], message: r.error?.message ?? 'invalid' }]).map((i) => ({
        path: i.path.map((k) => (typeof k === 'number' ? k : String(k))),
        message: i.message,
      }));
  return { mod, checked: r.data, problems };
}

/** The module's service: `defineService`'s default export, or the older `settings` + `createService` exports. */
function serviceModule(m: Record<string, unknown>): ServiceModule | undefined {
  const def = m.default as { create?: unknown; settings?: ServiceModule['settings'] } | undefined;
  if (def && typeof def.create === 'function')
    return {
      ...(def.settings ? { settings: def.settings } : {}),
      createService: def.create as ServiceModule['createService'],
    };
  return typeof m.createService === 'function' ? (m as unknown as ServiceModule) : undefined;
}

type ModuleSettingsT = z.output<typeof ModuleSettings>;

export const moduleDriver = defineDriver({
  name: 'module',
  settings: ModuleSettings,
  handlers: 'any',
  files: () => [['module']],
  // Config paths are absolute by now; the module is imported (once) to read its own schema.
  // A module with its own dependencies may not load before the agent has installed them: its
  // settings are then checked when the service starts.
  check: async (settings) => {
    try {
      return (await moduleSettings(settings, '/')).problems;
    } catch (e) {
      const waiting =
        (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' &&
        existsSync(path.join(path.dirname(settings.module), 'package.json'));
      if (waiting) return [];
      throw e;
    }
  },
  async create(settings, ctx) {
    // Its own dependencies first: the module imports them as it loads.
    const file = path.resolve(ctx.baseDir, settings.module);
    const deps = await installModuleDeps(file, ctx.dataDir, settings.allow_scripts, ctx.log);
    const { mod, checked, problems } = await moduleSettings(settings, ctx.baseDir);
    if (problems.length)
      throw errors.MODULE_SETTINGS(
        settings.module,
        problems.map((p) => `${p.path.join('.') || '(settings)'}: ${p.message}`).join('; '),
      );
    const depStatus = deps && { dependencies: deps.dir, cached: deps.cached };
    if (settings.isolation === 'thread') {
      const t = await threadedModule(file, checked, ctx, settings.hang_timeout);
      return depStatus ? { ...t, status: () => ({ ...t.status?.(), ...depStatus }) } : t;
    }
    const svc = await mod.createService(checked, ctx);
    return {
      ...(depStatus ? { status: () => depStatus } : {}),
      handlers: svc.handlers ?? {},
      start: async () => svc.start?.(),
      stop: async () => svc.stop?.(),
    };
  },
});
