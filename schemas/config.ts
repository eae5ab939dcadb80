import * as z from 'zod';
import { Cloud } from './cloud.js';
import { Duration } from './common.js';
import { Reactor } from './reactor.js';
import { Rollout } from './rollout.js';
import { Services } from './services.js';
import { Updates } from './updates.js';

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const Unit = z.strictObject({
  id: z.string().min(1).default('demo-unit'),
  timezone: z.string().refine(isTimeZone, { error: 'unknown IANA time zone' }).optional(),
  data_dir: z.string().min(1).default('var'),
});

/** The whole config language, version 1 (DESIGN.md §3). */
export const Config = z
  .strictObject({
    version: z.literal(1, { error: 'version must be 1' }),
    unit: Unit.default({ id: 'demo-unit', data_dir: 'var' }),
    include: z.union([z.string(), z.array(z.string())]).optional(),
    log: z
      .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info') })
      .default({ level: 'info' }),
    services: Services.default({}),
    reactor: Reactor.default({ rules: [] }),
    status: z.strictObject({ window: Duration.default(30_000) }).default({ window: 30_000 }),
    cloud: Cloud.optional(),
    updates: Updates.optional(),
    rollout: Rollout.optional(),
    control: z.strictObject({ socket: z.string().min(1).default('var/pitcrew.sock') }).default({
      socket: 'var/pitcrew.sock',
    }),
  })
  .meta({ title: 'pitcrew configuration', description: 'pitcrew agent config, version 1' });

export type ConfigInput = z.input<typeof Config>;
export type ConfigT = z.infer<typeof Config>;
export type UnitT = z.infer<typeof Unit>;
