import * as z from 'zod';
import { Bytes, Duration, Logic, Timetable } from './common.js';
import { Restart } from './services.js';

export const Schedule = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('force') }),
  z.strictObject({ type: z.literal('trigger') }),
  z.strictObject({ type: z.literal('timetable'), timetable: Timetable }),
]);

/** An installer's argv: the program is written out, never filled in from a message. */
const Argv = z
  .array(z.string())
  // An empty argv ends the checks here: the program check below reads the first element.
  .min(1, { abort: true })
  .refine((a) => !a[0]!.includes('{{'), {
    error: 'the program (first element) cannot be a placeholder: name the program, pass values as arguments',
  });

/** What must hold after an installer's exit code 0 for the item to count as installed. */
const Expect = z
  .strictObject({
    /** A file (templated like the argv) that must exist. */
    file: z.string().min(1).optional(),
    /** A regular expression the command's output (stdout) must match. */
    output: z
      .string()
      .min(1)
      .refine(
        (r) => {
          try {
            new RegExp(r);
            return true;
          } catch {
            return false;
          }
        },
        { error: 'not a valid regular expression' },
      )
      .optional(),
  })
  .optional();

const Command = {
  command: Argv,
  expect: Expect,
};

const Timed = { ...Command, timeout: Duration.default(1_800_000) };

const Installer = z.strictObject({
  match: z.strictObject({ id: z.string().optional(), type: z.string().optional() }).default({}),
  ...Timed,
});

const Policy = {
  schedule: Schedule.default({ type: 'trigger' }),
  when: Logic.optional(),
};

export const Updates = z
  .strictObject({
    /**
     * `pitcrew`: desired statuses in a signed envelope, checked against `trust`. `aos`: as an Aos
     * cloud sends them, unsigned, over a mutual-TLS link (the config check insists on one).
     */
    protocol: z.enum(['pitcrew', 'aos']).default('pitcrew'),
    trust: z.strictObject({ keys: z.array(z.string().min(1)).min(1) }).optional(),
    desired_file: z.string().optional(),
    download: z
      .strictObject({
        dir: z.string().default('var/downloads'),
        parallel: z.number().int().min(1).max(16).default(4),
        retry: z
          .strictObject({
            min: Duration.default(60_000),
            max: Duration.default(1_800_000),
            /** Attempts an item gets before it fails (SOTA goes on without it, FOTA stops). */
            attempts: z.number().int().min(1).default(10),
            /** And at most this long from its first attempt. */
            deadline: Duration.optional(),
          })
          .prefault({}),
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
            z.strictObject({
              type: z.literal('directory'),
              root: z.string().min(1),
              /** Most bytes one archive may unpack to; default: max_ratio × its size (at least 16MB), within the free space. */
              max_unpacked: Bytes.optional(),
              max_ratio: z.number().min(1).default(20),
              max_entries: z.number().int().min(1).default(100_000),
            }),
            z.strictObject({ type: z.literal('command'), ...Command, timeout: Duration.optional() }),
          ])
          .prefault({ type: 'directory', root: 'var/apps' }),
      })
      .optional(),
    /**
     * An Aos unit config, applied with the software update (DESIGN §14): written to
     * `data_dir/unit-config/<version>.json`, then this command runs with `{{ file }}`.
     */
    unit_config: z.strictObject({ installer: z.strictObject(Timed) }).optional(),
    /** Service instances a desired status asks for (DESIGN §14): run from `updates.sota`'s directory. */
    instances: z
      .strictObject({
        restart: Restart.prefault({}),
        /** After SIGTERM to its process group, how long before SIGKILL. */
        stop_timeout: Duration.default(10_000),
      })
      .prefault({}),
  })
  .refine((u) => u.protocol === 'aos' || u.trust, {
    path: ['trust'],
    error: 'desired statuses are signed: name the keys to trust (trust: { keys: [update.pub] })',
  })
  .refine((u) => !u.unit_config || u.sota, {
    path: ['unit_config'],
    error: 'a unit config is applied with the software update: configure updates.sota too',
  });

export type ScheduleT = z.infer<typeof Schedule>;
export type UpdatesT = z.infer<typeof Updates>;
