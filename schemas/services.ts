import * as z from 'zod';
import { Args, Duration, Name } from './common.js';

export const HOOK_KINDS = ['handler', 'converter', 'trigger', 'filter', 'enricher', 'returner'] as const;
export type HookKind = (typeof HOOK_KINDS)[number];

export const Hook = z.strictObject({
  name: Name,
  kind: z.enum(HOOK_KINDS),
  /** A built-in hook, a driver hook, or a module function `./path/file.js#export`. */
  use: z.string().min(1),
  args: Args.default({}),
});

const Steps = z
  .union([z.string().min(1), z.array(z.string().min(1))])
  .transform((v) => (Array.isArray(v) ? v : [v]));

export const Message = z.strictObject({
  handler: z.string().min(1),
  args: Args.default({}),
  /** The whole message (handler and every step) must finish within this. */
  timeout: Duration.default(10_000),
  converter: Steps.default([]),
  trigger: Steps.default([]),
  filter: Steps.default([]),
  enricher: Steps.default([]),
  returner: Steps.default([]),
});

/** Shortest interval: a shorter one is a busy loop, not a schedule. */
export const MIN_INTERVAL_MS = 10;

export const Worker = z
  .strictObject({
    name: Name,
    interval: Duration.refine((ms) => ms >= MIN_INTERVAL_MS, {
      error: `an interval must be at least ${MIN_INTERVAL_MS}ms`,
    }).optional(),
    cron: z.string().min(1).optional(),
    loop: z.number().int().min(-1).default(-1),
    delay: Duration.default(0),
    auto_start: z.boolean().default(true),
    on_error: z.enum(['continue', 'stop']).default('continue'),
    transactional: z.boolean().default(false),
    kill_upon_success: z.boolean().default(false),
    messages: z.array(Message).min(1),
  })
  .refine((w) => w.interval === undefined || w.cron === undefined, {
    error: 'a worker takes an interval or a cron, not both',
  })
  // A worker that runs a fixed number of times (`loop: N`) may run them back to back.
  .refine((w) => w.interval !== undefined || w.cron !== undefined || w.loop >= 0, {
    error: 'a worker that loops forever (loop: -1) needs an interval or a cron',
  })
  // The same rules for JSON Schema users, who cannot see the refinements.
  .meta({
    not: { required: ['interval', 'cron'] },
    anyOf: [
      { required: ['interval'] },
      { required: ['cron'] },
      { required: ['loop'], properties: { loop: { minimum: 0 } } },
    ],
  });

export const Restart = z.strictObject({
  delay: Duration.default(1000),
  max_delay: Duration.default(300_000),
  factor: z.number().min(1).default(2),
  jitter: z.number().min(0).max(1).default(0.2),
});

/** What every service has besides its driver and that driver's settings. */
export const ServiceCommon = {
  enabled: z.boolean().default(true),
  /** As AutoPi's: false keeps the service's failures out of the events (`system/service/<name>/failed`); the log still has them. */
  trigger_events: z.boolean().default(true),
  restart: Restart.prefault({}),
  hooks: z.array(Hook).default([]),
  workers: z.array(Worker).default([]),
};

/** A service of one driver; the config's union of these is built from the driver registry. */
export const serviceSchema = <const N extends string, S extends z.ZodType>(driver: N, settings: S) =>
  z.strictObject({ driver: z.literal(driver), settings, ...ServiceCommon });

const ServiceBase = z.strictObject(ServiceCommon);

/** A service as the kernel runs it: any driver, its settings already checked by that driver's schema. */
export type ServiceT = z.infer<typeof ServiceBase> & { driver: string; settings: unknown };

export type HookT = z.infer<typeof Hook>;
export type MessageT = z.infer<typeof Message>;
export type WorkerT = z.infer<typeof Worker>;
export type RestartT = z.infer<typeof Restart>;
