import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { defineHook } from './types.js';

export const signals = defineHook({
  name: 'signals',
  kind: 'returner',
  args: z.strictObject({}),
  create: (_args, ctx) => (r) => ctx.signals.set(ctx.service, r.type, r.value, r.ts, r.unit),
});

export const emit = defineHook({
  name: 'emit',
  kind: 'returner',
  args: z.strictObject({ tag: z.string().min(1).optional() }),
  create:
    ({ tag }, ctx) =>
    (r) => {
      ctx.bus.emit(tag ?? `vehicle/${ctx.service}/${r.type}`, { ...r }, ctx.service);
    },
});

export const log = defineHook({
  name: 'log',
  kind: 'returner',
  args: z.strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') }),
  create:
    ({ level }, ctx) =>
    (r) =>
      ctx.log[level]({ type: r.type, value: r.value, unit: r.unit }, `${ctx.service}.${r.type}`),
});

export const file = defineHook({
  name: 'file',
  kind: 'returner',
  args: z.strictObject({ path: z.string().min(1).default('readings.jsonl') }),
  create: (args, ctx) => {
    const target = path.resolve(ctx.dataDir, args.path);
    mkdirSync(path.dirname(target), { recursive: true });
    return (r) => appendFileSync(target, `${JSON.stringify({ service: ctx.service, ...r })}\n`);
  },
});

export const cloud = defineHook({
  name: 'cloud',
  kind: 'returner',
  args: z.strictObject({}),
  create: (_args, ctx) => (r) => ctx.records.push(ctx.service, r),
});
