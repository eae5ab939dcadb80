import * as z from 'zod';
import { Bytes, Duration, Logic } from './common.js';

const VOLTS_HINT = 'a voltage: 11.8V or 11.8';
/** A voltage, `11.8V` or a number of volts. */
export const Volts = z
  .union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?\s*V$/i, { error: VOLTS_HINT })], {
    error: VOLTS_HINT,
  })
  .transform((v) => (typeof v === 'number' ? v : Number.parseFloat(v)));

/** A voltage held below a threshold for a duration. */
const Below = z.strictObject({ below: Volts, for: Duration });

/** The unit's power (DESIGN §13): sleep timers, low-battery hibernation and the safety cut-out, through logind. */
export const Power = z.strictObject({
  /** The signal that carries the battery voltage: `signals.obd.voltage`, `signals.battery.voltage` … */
  voltage: z
    .string()
    .regex(/^signals\.[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+$/, {
      error: 'a signal path such as signals.obd.voltage',
    })
    .optional(),
  /** How far above a threshold the voltage must come back before it counts as recovered. */
  hysteresis: Volts.default(0.2),
  /** Readings older than this are not taken: a silent adapter is not a healthy battery. */
  max_age: Duration.default(30_000),
  /** The sleep timer: suspend once `when` (engine off, no motion …) has held for `after`. */
  sleep: z.strictObject({ after: Duration, when: Logic }).optional(),
  /** Hibernate when the battery stays below `below` for `for`. */
  hibernate: Below.optional(),
  /** Power off when the battery stays below `below` for `for`: never held back by `inhibit` or rules. */
  cutout: Below.optional(),
  /** JsonLogic over `{signals, state, updates: {installing}, outbox: {queued}}`: while true, sleep and hibernate wait. */
  inhibit: Logic.optional(),
  /** The D-Bus address of logind's bus; default: the system bus (`$DBUS_SYSTEM_BUS_ADDRESS`). */
  bus: z.string().min(1).optional(),
});

/** What a kind of data may keep: its age and total size. */
const Keep = z.strictObject({ max_age: Duration.optional(), max_size: Bytes.optional() });

/** Kinds of data the housekeeper looks after, lowest priority first: the first to go when space is short. */
export const STORAGE_KINDS = ['logs', 'drives', 'downloads', 'bundles', 'last_known_good'] as const;

/** Disk housekeeping (DESIGN §13): retention per kind and a free-space floor for `data_dir`. */
export const Storage = z.strictObject({
  /** Free space `data_dir`'s filesystem keeps: `10%` or bytes (`500MB`). */
  min_free: z
    .union([
      z.string().regex(/^\d+(\.\d+)?%$/, { error: 'a share such as 10%, or bytes such as 500MB' }),
      Bytes,
    ])
    .default('10%'),
  /** How often it looks. */
  every: Duration.default(600_000),
  keep: z.partialRecord(z.enum(STORAGE_KINDS), Keep).default({}),
  /** Where each kind lives, relative to `data_dir` unless absolute. */
  dirs: z.partialRecord(z.enum(STORAGE_KINDS), z.string().min(1)).default({}),
});

export type PowerT = z.infer<typeof Power>;
export type StorageT = z.infer<typeof Storage>;
export type StorageKind = (typeof STORAGE_KINDS)[number];
