import * as z from 'zod';
import { Duration } from '../../../schemas/common.js';
import { defineDriver, type Settings } from '../types.js';
import { notInThisBuild } from '../unavailable.js';

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

/** CAN and CAN-FD with DBC decoding (DESIGN §3.3). */
export const can = defineDriver({
  name: 'can',
  settings: CanSettings,
  handlers: ['signals', 'send'],
  files: (s) => [
    ...(Array.isArray(s.dbc) ? s.dbc.map((_, i) => ['dbc', i]) : []),
    ...((s.source as Settings | undefined)?.type === 'replay' ? [['source', 'file']] : []),
  ],
  create: notInThisBuild('can'),
});
