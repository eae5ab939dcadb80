import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { errors } from '../errors.js';
import { defineDriver } from '../types.js';

export const PowerSupplySettings = z.strictObject({
  /** The supply: its name under `root` (`BAT0`, `axp20x-battery`, `ADC`), or the path of its directory. */
  supply: z.string().min(1),
  root: z.string().default('/sys/class/power_supply'),
});

/** The kernel's power_supply attributes in micro-units, as volts, amperes and watt-hours. */
const MICRO: Record<string, { file: string; unit: string }> = {
  voltage: { file: 'voltage_now', unit: 'V' },
  current: { file: 'current_now', unit: 'A' },
};

/**
 * A Linux power_supply device (DESIGN §13): the battery or supply the unit sees through sysfs
 * (`/sys/class/power_supply/<name>/`), as readings a worker puts into the signals, e.g. for
 * `power.voltage: signals.battery.voltage`. `voltage` and `current` from the micro-unit files,
 * `capacity` (percent) and `status` as the kernel writes them.
 */
export const powerSupply = defineDriver({
  name: 'power_supply',
  settings: PowerSupplySettings,
  handlers: ['voltage', 'current', 'capacity', 'status'],
  create(s, ctx) {
    const dir = s.supply.includes('/') ? s.supply : path.join(s.root, s.supply);
    const read = (file: string) => {
      const f = path.join(dir, file);
      if (!existsSync(f))
        throw errors.DRIVER_ERROR(`${f} does not exist: check settings.supply (${s.supply}) and root`);
      return readFileSync(f, 'utf8').trim();
    };
    const micro = (kind: string) => async () => {
      const { file, unit } = MICRO[kind]!;
      return { type: kind, value: Number(read(file)) / 1e6, unit, ts: ctx.clock.now() };
    };
    return {
      handlers: {
        voltage: micro('voltage'),
        current: micro('current'),
        capacity: async () => ({
          type: 'capacity',
          value: Number(read('capacity')),
          unit: '%',
          ts: ctx.clock.now(),
        }),
        status: async () => ({ type: 'status', value: read('status'), ts: ctx.clock.now() }),
      },
      start: async () => {},
      stop: async () => {},
      status: () => ({ supply: dir }),
    };
  },
});
