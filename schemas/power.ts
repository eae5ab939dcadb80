import * as z from 'zod';
import { Duration, Logic } from './common.js';

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

export type PowerT = z.infer<typeof Power>;
