import type * as z from 'zod';
import type { DriverContext, DriverInstance } from '../core/types.js';
import type { HookDef } from '../hooks/types.js';

/** A driver as its file declares it. */
export interface DriverSpec<N extends string, S extends z.ZodType> {
  name: N;
  /** Its settings; the config's `services.<name>.settings` are checked against it at load. */
  settings: S;
  /** The handlers its services can name; 'any' when only the running driver knows (a module). */
  handlers: readonly string[] | 'any';
  /** Hooks the driver adds to its services' name space, declared statically so config checks see them. */
  hooks?: readonly HookDef[];
  /** Key paths inside its settings that name files: checked to exist, resolved against the config's directory. */
  files?: (settings: Settings) => SettingsPath[];
  /** Checks that need more than the schema (a module's own settings schema); paths inside settings. */
  check?: (settings: z.output<S>) => Promise<SettingsProblem[]>;
  create(settings: z.output<S>, ctx: DriverContext): DriverInstance | Promise<DriverInstance>;
}

export interface SettingsProblem {
  path: SettingsPath;
  message: string;
}

/** Settings as written or parsed: only their shape at `files` paths matters. */
export type Settings = Record<string, unknown>;
export type SettingsPath = (string | number)[];

/** A registered driver. */
export interface DriverDef<N extends string = string, S extends z.ZodType = z.ZodType> {
  name: N;
  settings: S;
  handlers: readonly string[] | 'any';
  hooks: readonly HookDef[];
  files(settings: Settings): SettingsPath[];
  /** `settings` as the config schema parsed them (file paths absolute). */
  check(settings: unknown): Promise<SettingsProblem[]>;
  /** `settings` as the config schema already parsed them with this driver's own `settings`. */
  create(settings: unknown, ctx: DriverContext): Promise<DriverInstance>;
}

export function defineDriver<N extends string, S extends z.ZodType>(spec: DriverSpec<N, S>): DriverDef<N, S> {
  return {
    name: spec.name,
    settings: spec.settings,
    handlers: spec.handlers,
    hooks: spec.hooks ?? [],
    files: spec.files ?? (() => []),
    check: async (settings) => (spec.check ? spec.check(settings as z.output<S>) : []),
    // The config schema parsed these settings with `spec.settings` (transforms applied): parsing them
    // again would apply the transforms twice, so the type is restored, not re-checked.
    create: async (settings, ctx) => spec.create(settings as z.output<S>, ctx),
  };
}
