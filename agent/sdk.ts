/**
 * What a module author imports (`import { defineService, defineHook, z } from 'pitcrew'`): the
 * service and hook contracts, the context a service gets, zod for its settings, and the errors it
 * may throw. A module resolves `pitcrew` to the running agent's own copy wherever it lives
 * (`sdk-resolve.ts`), so this file stays small: contracts, no runtime.
 */
import * as z from 'zod';
import type { DriverContext, HandlerFn, HookKind, Result } from './core/types.js';

export { define as defineError, PitcrewError } from './core/errors.js';
export type { HookKind, Result };
export { z };

/** What `create` gets: its service's name, the bus (bounded), the clock, a logger, `fail`, `signal`, `read`. */
export type ServiceContext = DriverContext;

/** A running service: its handlers (named in `workers`), and what to do at start and stop. */
export interface ServiceInstance {
  handlers?: Record<string, HandlerFn>;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
  /** Shown under the service in `pitcrew status`. */
  status?(): Record<string, unknown>;
}

/** A module service: its settings schema (checked by `pitcrew validate`, with positions) and how to create it. */
export interface ServiceDefinition<S extends z.ZodType = z.ZodType> {
  settings?: S;
  create(settings: z.output<S>, ctx: ServiceContext): ServiceInstance | Promise<ServiceInstance>;
}

/** Declares a module service: `export default defineService({ settings, create })`. */
export function defineService<S extends z.ZodType>(def: ServiceDefinition<S>): ServiceDefinition<S> {
  return def;
}

/** Declares a module hook (`use: ./hooks.js#name`): called as `(input, args, ctx)`. */
export function defineHook<F extends (input: Result, args: Record<string, unknown>, ctx: unknown) => unknown>(
  fn: F,
): F {
  return fn;
}
