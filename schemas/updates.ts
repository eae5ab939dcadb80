import * as z from 'zod';
import { Duration, Logic, Timetable } from './common.js';

export const Schedule = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('force') }),
  z.strictObject({ type: z.literal('trigger') }),
  z.strictObject({ type: z.literal('timetable'), timetable: Timetable }),
]);

const Installer = z.strictObject({
  match: z.strictObject({ id: z.string().optional(), type: z.string().optional() }).default({}),
  command: z.array(z.string()).min(1),
  timeout: Duration.default(1_800_000),
});

const Policy = {
  schedule: Schedule.default({ type: 'trigger' }),
  when: Logic.optional(),
};

export const Updates = z.strictObject({
  trust: z.strictObject({ keys: z.array(z.string().min(1)).min(1) }),
  desired_file: z.string().optional(),
  download: z
    .strictObject({
      dir: z.string().default('var/downloads'),
      parallel: z.number().int().min(1).max(16).default(4),
      retry: z.strictObject({ min: Duration.default(60_000), max: Duration.default(1_800_000) }).prefault({}),
    })
    .prefault({}),
  ttl: Duration.default(30 * 86_400_000),
  grpc: z
    .strictObject({
      /** `host:port` or `unix:path`; several to serve on each. */
      listen: z
        .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
        .default('127.0.0.1:8093')
        .transform((l) => (Array.isArray(l) ? l : [l])),
      tls: z.strictObject({ cert: z.string(), key: z.string(), ca: z.string().optional() }).optional(),
    })
    .optional(),
  fota: z.strictObject({ ...Policy, installers: z.array(Installer).default([]) }).optional(),
  sota: z
    .strictObject({
      ...Policy,
      installer: z
        .discriminatedUnion('type', [
          z.strictObject({ type: z.literal('directory'), root: z.string().min(1) }),
          z.strictObject({
            type: z.literal('command'),
            command: z.array(z.string()).min(1),
            timeout: Duration.optional(),
          }),
        ])
        .default({ type: 'directory', root: 'var/apps' }),
    })
    .optional(),
});

export type ScheduleT = z.infer<typeof Schedule>;
export type UpdatesT = z.infer<typeof Updates>;
