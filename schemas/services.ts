import * as z from 'zod';
import { Args, Duration, Name } from './common.js';
import { DRIVER_SETTINGS } from './drivers.js';

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
  converter: Steps.default([]),
  trigger: Steps.default([]),
  filter: Steps.default([]),
  enricher: Steps.default([]),
  returner: Steps.default([]),
});

export const Worker = z
  .strictObject({
    name: Name,
    interval: Duration.optional(),
    cron: z.string().min(1).optional(),
    loop: z.number().int().min(-1).default(-1),
    delay: Duration.default(0),
    auto_start: z.boolean().default(true),
    on_error: z.enum(['continue', 'stop']).default('continue'),
    transactional: z.boolean().default(false),
    kill_upon_success: z.boolean().default(false),
    messages: z.array(Message).min(1),
  })
  .refine((w) => (w.interval === undefined) !== (w.cron === undefined), {
    error: 'a worker needs exactly one of interval or cron',
  })
  // The same rule for JSON Schema users, which cannot see the refinement.
  .meta({ oneOf: [{ required: ['interval'] }, { required: ['cron'] }] });

export const Restart = z.strictObject({
  delay: Duration.default(1000),
  max_delay: Duration.default(300_000),
  factor: z.number().min(1).default(2),
  jitter: z.number().min(0).max(1).default(0.2),
});

const serviceOf = <D extends keyof typeof DRIVER_SETTINGS>(driver: D) =>
  z.strictObject({
    driver: z.literal(driver),
    settings: DRIVER_SETTINGS[driver],
    enabled: z.boolean().default(true),
    restart: Restart.default({ delay: 1000, max_delay: 300_000, factor: 2, jitter: 0.2 }),
    hooks: z.array(Hook).default([]),
    workers: z.array(Worker).default([]),
  });

export const Service = z.discriminatedUnion('driver', [
  serviceOf('elm327'),
  serviceOf('sim-vehicle'),
  serviceOf('can'),
  serviceOf('nmea'),
  serviceOf('module'),
]);

export const Services = z.record(Name, Service);

export type HookT = z.infer<typeof Hook>;
export type MessageT = z.infer<typeof Message>;
export type WorkerT = z.infer<typeof Worker>;
export type RestartT = z.infer<typeof Restart>;
export type ServiceT = z.infer<typeof Service>;
