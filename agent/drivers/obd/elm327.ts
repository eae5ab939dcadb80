import * as z from 'zod';
import { Duration } from '../../../schemas/common.js';
import { defineDriver } from '../types.js';
import { notInThisBuild } from '../unavailable.js';
import { OBD_HANDLERS } from './pids.js';

export const Elm327Settings = z.strictObject({
  port: z.string().min(1),
  baudrate: z.union([z.literal('auto'), z.number().int().positive()]).default('auto'),
  protocol: z.union([z.literal('auto'), z.number().int().min(1).max(12)]).default('auto'),
  timeout: Duration.default(2000),
  header: z
    .string()
    .regex(/^[0-9A-Fa-f]{3,8}$/)
    .optional(),
  reconnect: z.strictObject({ min: Duration.default(1000), max: Duration.default(60_000) }).optional(),
});

/** OBD-II through an ELM327/STN adapter (DESIGN §3.3). */
export const elm327 = defineDriver({
  name: 'elm327',
  settings: Elm327Settings,
  handlers: OBD_HANDLERS,
  create: notInThisBuild('elm327'),
});
