import * as z from 'zod';
import { Duration } from './common.js';

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

export const SimVehicleSettings = z.strictObject({
  cycle: z.enum(['urban', 'highway', 'idle']).default('urban'),
  speedup: z.number().positive().max(1000).default(1),
  seed: z.number().int().default(1),
  route: z
    .array(z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }))
    .min(2)
    .optional(),
  vin: z.string().length(17).optional(),
  dtc_rate: z.number().min(0).max(1).optional(),
});

const CanSource = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('socketcan'),
    interface: z.string().min(1),
    fd: z.boolean().default(false),
  }),
  z.strictObject({
    type: z.literal('replay'),
    file: z.string().min(1),
    speed: z.number().positive().default(1),
    loop: z.boolean().default(false),
  }),
  z.strictObject({ type: z.literal('virtual'), bus: z.string().min(1) }),
]);

export const CanSettings = z.strictObject({
  source: CanSource,
  dbc: z.array(z.string().min(1)).default([]),
  emit: z
    .array(z.strictObject({ message: z.string().min(1), min_interval: Duration.default(0) }))
    .default([]),
});

export const NmeaSettings = z.strictObject({
  port: z.string().min(1),
  baudrate: z.number().int().positive().default(9600),
});

/** A module service's own settings are checked by the schema the module exports, at start. */
export const ModuleSettings = z.looseObject({ module: z.string().min(1) });

export const DRIVER_SETTINGS = {
  elm327: Elm327Settings,
  'sim-vehicle': SimVehicleSettings,
  can: CanSettings,
  nmea: NmeaSettings,
  module: ModuleSettings,
} as const;

export type DriverName = keyof typeof DRIVER_SETTINGS;
export type Elm327SettingsT = z.infer<typeof Elm327Settings>;
export type SimVehicleSettingsT = z.infer<typeof SimVehicleSettings>;
export type CanSettingsT = z.infer<typeof CanSettings>;
export type NmeaSettingsT = z.infer<typeof NmeaSettings>;
export type ModuleSettingsT = z.infer<typeof ModuleSettings>;
