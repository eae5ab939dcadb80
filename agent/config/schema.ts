import * as z from 'zod';
import { Cloud } from '../../schemas/cloud.js';
import { Duration, Name } from '../../schemas/common.js';
import { Power } from '../../schemas/power.js';
import { Rollout } from '../../schemas/rollout.js';
import { serviceSchema } from '../../schemas/services.js';
import { Storage } from '../../schemas/storage.js';
import { Updates } from '../../schemas/updates.js';
import { DesiredStatus, Event, Segment, SignedEnvelope, UnitStatus } from '../../schemas/wire.js';
import { DRIVERS } from '../drivers/registry.js';
import type { DriverDef } from '../drivers/types.js';
import { Reactor, Rule } from '../reactor/schema.js';

/** The unit's own places when the config leaves them out, relative to the config's directory. */
export const DEFAULT_DATA_DIR = 'var';
export const DEFAULT_SOCKET = 'var/pitcrew.sock';

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const Unit = z.strictObject({
  id: z.string().min(1).default('demo-unit'),
  timezone: z.string().refine(isTimeZone, { error: 'unknown IANA time zone' }).optional(),
  data_dir: z.string().min(1).default(DEFAULT_DATA_DIR),
});

/** A service of one driver, with the rules declared inside it (AutoPi's reactors), run as `<service>.<rule>`. */
const serviceWithReactors = <const N extends string, S extends z.ZodType>(driver: N, settings: S) =>
  serviceSchema(driver, settings).extend({ reactors: z.array(Rule).default([]) });

type ServiceOf<D> =
  D extends DriverDef<infer N, infer S> ? ReturnType<typeof serviceWithReactors<N, S>> : never;
type ServicesOf<T extends readonly unknown[]> = { -readonly [I in keyof T]: ServiceOf<T[I]> };

/**
 * A service of any registered driver, told apart by `driver`. The union is built from the registry
 * at run time; its static type is restated from the registry's types, which zod cannot infer.
 */
export const Service = z.discriminatedUnion(
  'driver',
  DRIVERS.map((d) => serviceWithReactors(d.name, d.settings)) as unknown as ServicesOf<typeof DRIVERS>,
);

export const Services = z.record(Name, Service);

/** The whole config language, version 1 (DESIGN.md §3). */
export const Config = z
  .strictObject({
    version: z.literal(1, { error: 'version must be 1' }),
    unit: Unit.prefault({}),
    include: z.union([z.string(), z.array(z.string())]).optional(),
    log: z
      .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info') })
      .prefault({}),
    services: Services.default({}),
    reactor: Reactor.prefault({}),
    status: z.strictObject({ window: Duration.default(30_000) }).prefault({}),
    cloud: Cloud.optional(),
    updates: Updates.optional(),
    rollout: Rollout.optional(),
    power: Power.optional(),
    storage: Storage.optional(),
    control: z.strictObject({ socket: z.string().min(1).default(DEFAULT_SOCKET) }).prefault({}),
    /** A Prometheus endpoint, off unless configured: `listen: 127.0.0.1:9464`. */
    metrics: z
      .strictObject({
        listen: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, {
          error: 'listen is host:port, e.g. 127.0.0.1:9464',
        }),
      })
      .optional(),
  })
  .meta({ title: 'pitcrew configuration', description: 'pitcrew agent config, version 1' });

/** A path inside a bundle: up to 8 names (the name grammar of messages: no `.`, `..` or separators of their own). */
const BundlePath = z
  .string()
  .max(512)
  .refine((p) => p.split('/').length <= 8 && p.split('/').every((s) => Segment.safeParse(s).success), {
    error: 'a relative path of names (letters, digits and . _ : + -, no leading . or -), at most 8 deep',
  });

/** A file a bundle carries: its bytes, and their SHA-256, checked before anything is written. */
export const BundleFile = z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/), content: z.base64() });

/**
 * A bundle's files named by a whole path of `__proto__`: zod's records skip such a key (assigning
 * it would set the record's prototype), so the file would vanish unseen; its signer and the unit
 * refuse it with this reason instead.
 */
export function protoFileIssue(files: unknown): string | undefined {
  if (typeof files === 'object' && files !== null && Object.hasOwn(files, '__proto__'))
    return "files.__proto__: '__proto__' cannot be a file's whole path: put it in a folder";
  return undefined;
}

/**
 * A signed rule bundle's payload (DESIGN §8): replaces the rule set and the named services, and
 * may carry files (modules, their package.json, DBCs) its services name by relative path.
 */
export const Bundle = z.strictObject({
  version: z.number().int().nonnegative(),
  rules: Reactor.shape.rules,
  services: Services.optional(),
  files: z.record(BundlePath, BundleFile).optional(),
});

/** Every published JSON Schema: file name → zod schema. */
export const JSON_SCHEMAS = {
  'pitcrew.schema.json': Config,
  'desired-status.schema.json': DesiredStatus,
  'bundle.schema.json': Bundle,
  'envelope.schema.json': SignedEnvelope,
  'event.schema.json': Event,
  'unit-status.schema.json': UnitStatus,
} as const;

export type SchemaFile = keyof typeof JSON_SCHEMAS;
export type ConfigInput = z.input<typeof Config>;
export type ConfigT = z.infer<typeof Config>;
export type ConfiguredServiceT = z.infer<typeof Service>;
export type BundleT = z.infer<typeof Bundle>;
export type UnitT = z.infer<typeof Unit>;
