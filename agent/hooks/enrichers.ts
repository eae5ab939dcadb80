import * as z from 'zod';
import { defineHook } from './types.js';

/** Units of the readings pitcrew's drivers produce, by result type. */
const UNITS: Record<string, string> = {
  rpm: 'rpm',
  speed: 'km/h',
  coolant_temp: '°C',
  intake_temp: '°C',
  throttle_pos: '%',
  engine_load: '%',
  fuel_level: '%',
  voltage: 'V',
  maf: 'g/s',
  run_time: 's',
};

export const unit = defineHook({
  name: 'unit',
  kind: 'enricher',
  args: z.strictObject({ units: z.record(z.string(), z.string()).default({}) }),
  create: ({ units }) => {
    const table = { ...UNITS, ...units };
    return (r) => (r.unit !== undefined || table[r.type] === undefined ? r : { ...r, unit: table[r.type] });
  },
});

export const position = defineHook({
  name: 'position',
  kind: 'enricher',
  args: z.strictObject({
    /** The signal holding the position, `<service>.<type>`; default: the first `location` reading. */
    from: z.string().optional(),
  }),
  create:
    ({ from }, ctx) =>
    (r) => {
      const signal = from
        ? ctx.signals.byPath(from)
        : ctx.signals.entries().find(([k]) => k.endsWith('.location'))?.[1];
      const loc = signal?.value as { lat?: number; lon?: number } | undefined;
      return loc?.lat === undefined ? r : { ...r, position: { lat: loc.lat, lon: loc.lon } };
    },
});
