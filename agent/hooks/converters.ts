import * as z from 'zod';
import { defineHook, numeric } from './types.js';

export const scale = defineHook({
  name: 'scale',
  kind: 'converter',
  args: z.strictObject({ factor: z.number().default(1), offset: z.number().default(0) }),
  create:
    ({ factor, offset }) =>
    (r) => {
      const v = numeric(r.value);
      return v === undefined ? r : { ...r, value: v * factor + offset };
    },
});

export const round = defineHook({
  name: 'round',
  kind: 'converter',
  args: z.strictObject({ digits: z.number().int().min(0).max(12).default(0) }),
  create: ({ digits }) => {
    const f = 10 ** digits;
    return (r) => {
      const v = numeric(r.value);
      return v === undefined ? r : { ...r, value: Math.round(v * f) / f };
    };
  },
});
