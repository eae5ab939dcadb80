import * as z from 'zod';
import { Duration, Logic } from '../../schemas/common.js';
import { defineHook, numeric } from './types.js';

export const changed = defineHook({
  name: 'changed',
  kind: 'filter',
  args: z.strictObject({ deadband: z.number().min(0).default(0) }),
  create: ({ deadband }) => {
    const last = new Map<string, unknown>();
    return (r) => {
      const prev = last.get(r.type);
      const a = numeric(r.value);
      const b = numeric(prev);
      const differs =
        !last.has(r.type) ||
        (a !== undefined && b !== undefined
          ? Math.abs(a - b) > deadband
          : JSON.stringify(prev) !== JSON.stringify(r.value));
      if (differs) last.set(r.type, r.value);
      return differs;
    };
  },
});

export const range = defineHook({
  name: 'range',
  kind: 'filter',
  args: z.strictObject({ min: z.number().optional(), max: z.number().optional() }),
  create:
    ({ min, max }) =>
    (r) => {
      const v = numeric(r.value);
      return v !== undefined && (min === undefined || v >= min) && (max === undefined || v <= max);
    },
});

export const every = defineHook({
  name: 'every',
  kind: 'filter',
  args: z.strictObject({ interval: Duration.default(60_000) }),
  create: ({ interval }) => {
    const lastPassed = new Map<string, number>();
    return (r) => {
      const prev = lastPassed.get(r.type);
      if (prev !== undefined && r.ts - prev < interval) return false;
      lastPassed.set(r.type, r.ts);
      return true;
    };
  },
});

export const logic = defineHook({
  name: 'logic',
  kind: 'filter',
  args: z.strictObject({ when: Logic }),
  create: ({ when }, ctx) => {
    const test = ctx.condition(when);
    return (r) =>
      test({
        result: r,
        signals: ctx.signals.tree,
        state: ctx.state.tree,
        unit: ctx.unit,
        now: ctx.clock.now(),
      });
  },
});
