import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { HandlerFn, HookDef } from '../hooks/types.js';

export interface DriverContext {
  service: string;
  bus: Bus;
  clock: Clock;
  log: Logger;
  /** Directory of the config file: relative paths in settings resolve against it. */
  baseDir: string;
  /** Reports a failure after start (a pulled cable, a crashed module): the supervisor restarts the service. */
  fail(reason: Error): void;
}

/** A running driver: its handlers and lifecycle. */
export interface DriverInstance {
  handlers: Record<string, HandlerFn>;
  /** Hooks the driver adds to its service's name space. */
  hooks?: HookDef[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface DriverDef<S extends z.ZodType = z.ZodType> {
  name: string;
  settings: S;
  /** The handlers its services can name; 'any' when only the running driver knows (a module). */
  handlers: readonly string[] | 'any';
  create(settings: z.infer<S>, ctx: DriverContext): DriverInstance | Promise<DriverInstance>;
}

export function defineDriver<S extends z.ZodType>(def: DriverDef<S>): DriverDef<S> {
  return def;
}

/** Thrown for a request a driver cannot serve; the message says what to do. */
export class DriverError extends Error {
  constructor(
    message: string,
    readonly code = 'PITCREW_DRIVER_ERROR',
  ) {
    super(message);
    this.name = 'DriverError';
  }
}
