import * as z from 'zod';
import { WireTimetableEntry } from './common.js';

/** Signed envelope for desired status and rule bundles: Ed25519 over the payload bytes. */
export const SignedEnvelope = z.strictObject({
  payload: z.base64(),
  signature: z.base64(),
  key_id: z.string().min(1),
});

/**
 * A name from a message that becomes a path segment or an installer argument (an id, a type, a
 * version, a digest): one strict grammar, checked when the message is read. No separators, no
 * `.`/`..`, nothing that starts like an option, bounded.
 */
export const Segment = z
  .string()
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9._:+-]{0,127}$/,
    'must be 1 to 128 of letters, digits and . _ : + -, starting with a letter, digit or _ (no path separators, no leading . or -)',
  );

const Artifact = {
  /** Only HTTP(S): other schemes and redirects are refused, never followed. */
  urls: z.array(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })).min(1),
  /** pitcrew's hex SHA-256, or an Aos cloud's base64 digest bytes (checked as SHA3-256, as the Aos CM does). */
  sha256: z.union([
    z.string().regex(/^[0-9a-f]{64}$/),
    z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a hex SHA-256 or the base64 of a 32-byte digest'),
  ]),
  size: z.number().int().nonnegative(),
};

/** `ttl` in seconds; 0, as Go writes an unset one, is no ttl of the message's own. */
const Ttl = z
  .number()
  .int()
  .nonnegative()
  .transform((n) => n || undefined)
  .optional();

const WireSchedule = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('force'), ttl: Ttl, timetable: z.null().optional() }),
  z.strictObject({ type: z.literal('trigger'), ttl: Ttl, timetable: z.null().optional() }),
  z.strictObject({
    type: z.literal('timetable'),
    ttl: Ttl,
    timetable: z.array(WireTimetableEntry).min(1),
  }),
]);

/**
 * A schedule as a desired status carries it. Go writes an unset one as `{ttl: 0, type: "",
 * timetable: null}`: no type is no schedule of the message's own (the config's holds).
 */
const OptionalSchedule = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === '' ? undefined : v),
  WireSchedule.optional(),
);

/** An Aos unit config: the nodes' resources, labels and priorities; the unit applies it through its installer. */
export const UnitConfig = z.looseObject({
  formatVersion: z.union([z.number(), z.string().min(1)]),
  version: Segment,
  nodes: z
    .array(
      z.looseObject({
        nodeId: z.string().optional(),
        nodeType: z.string().min(1),
        priority: z.number().int().optional(),
        labels: z.array(z.string()).nullable().optional(),
      }),
    )
    .nullable()
    .transform((n) => n ?? []),
});

/** Most instances one entry may ask for: each is a process on the unit. */
export const MAX_INSTANCES = 64;

/** Run `numInstances` instances of an installed service for a subject (DESIGN §14). */
export const InstanceRequest = z.looseObject({
  serviceId: Segment,
  subjectId: Segment,
  priority: z.number().int().default(0),
  numInstances: z.number().int().min(0).max(MAX_INSTANCES),
  labels: z.array(z.string()).nullable().optional(),
});

export const DesiredStatus = z.looseObject({
  messageType: z.literal('desiredStatus'),
  /**
   * Greater in each desired status the cloud signs (`pitcrew desired sign` uses the time in ms):
   * a unit takes only one newer than the last it took, so a captured envelope cannot be replayed.
   */
  sequence: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  /** The unit (or units) it is meant for; any other unit refuses it. */
  unit: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  unitConfig: UnitConfig.optional(),
  components: z
    .array(
      z.looseObject({
        /** Absent (as an Aos cloud may send it): every installed component of that type. */
        id: Segment.optional(),
        type: Segment,
        version: Segment,
        ...Artifact,
      }),
    )
    .default([]),
  services: z.array(z.looseObject({ id: Segment, version: Segment, ...Artifact })).default([]),
  layers: z
    .array(
      z.looseObject({
        id: Segment,
        digest: Segment,
        version: Segment,
        ...Artifact,
      }),
    )
    .default([]),
  /** Absent: the instances running stay; a list (null or empty: none) replaces them. */
  instances: z.array(InstanceRequest).nullable().optional(),
  fotaSchedule: OptionalSchedule,
  sotaSchedule: OptionalSchedule,
});

export const Event = z.strictObject({
  tag: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  ts: z.number(),
  source: z.string(),
});

export type WireScheduleT = z.infer<typeof WireSchedule>;
export type SignedEnvelopeT = z.infer<typeof SignedEnvelope>;
/**
 * A desired status as an Aos cloud sends it (`updates.protocol: aos`): no `sequence` of pitcrew's,
 * optionally wrapped as Aos's `{header: {version, systemId}, data}`.
 */
export const AosDesiredStatus = DesiredStatus.extend({ sequence: DesiredStatus.shape.sequence.optional() });

/** What the unit works with once a desired status is taken: pitcrew's has a sequence, an Aos one may not. */
export type DesiredStatusT = z.infer<typeof AosDesiredStatus>;
export type InstanceRequestT = z.infer<typeof InstanceRequest>;

/** An item's state in the unit status (DESIGN §5). */
export const ItemStatus = z.enum([
  'unknown',
  'pending',
  'downloading',
  'downloaded',
  'installing',
  'installed',
  'removing',
  'removed',
  'error',
]);

/** What went wrong, as Aos's cloud reads it; pitcrew's `PITCREW_…` code leads the message. */
export const AosErrorInfo = z.strictObject({
  aosCode: z.number().int(),
  exitCode: z.number().int(),
  message: z.string(),
});
const withStatus = { status: ItemStatus, errorInfo: AosErrorInfo.nullable().optional() };

/** The unit status's sections as Aos's `cloudprotocol.UnitStatus` has them (test/fixtures/aos). */
const StatusSections = {
  unitConfig: z.array(z.looseObject({ version: z.string(), ...withStatus })),
  nodes: z.array(
    z.looseObject({
      id: z.string(),
      type: z.string(),
      name: z.string(),
      status: z.enum(['unprovisioned', 'provisioned', 'paused', 'error']),
      osType: z.string(),
      maxDmips: z.number().int().nonnegative(),
      totalRam: z.number().int().nonnegative(),
      cpus: z.array(z.looseObject({})).optional(),
      partitions: z
        .array(
          z.looseObject({
            name: z.string(),
            types: z.array(z.string()),
            totalSize: z.number(),
            path: z.string(),
          }),
        )
        .optional(),
      errorInfo: AosErrorInfo.nullable().optional(),
    }),
  ),
  services: z.array(z.looseObject({ id: z.string(), version: z.string(), ...withStatus })),
  instances: z.array(
    z.looseObject({
      serviceId: z.string(),
      subjectId: z.string(),
      instance: z.number().int().nonnegative(),
      version: z.string(),
      status: z.enum(['activating', 'active', 'inactive', 'failed']),
      nodeId: z.string(),
      errorInfo: AosErrorInfo.nullable().optional(),
    }),
  ),
  layers: z.array(z.looseObject({ id: z.string(), digest: z.string(), version: z.string(), ...withStatus })),
  components: z.array(
    z.looseObject({ id: z.string(), type: z.string(), version: z.string(), ...withStatus }),
  ),
  unitSubjects: z.array(z.string()),
};

/** The agent's own services and their workers, beside Aos's sections. */
const AgentSection = z
  .array(
    z.looseObject({
      name: z.string(),
      state: z.string(),
      restarts: z.number(),
      error: z.string().optional(),
      code: z.string().optional(),
      workers: z.array(z.looseObject({ name: z.string(), state: z.string() })),
    }),
  )
  .optional();

/** The agent's own config (not Aos's unit config): its version, and whether the last change was taken. */
const ConfigSection = z
  .array(
    z.looseObject({
      version: z.string(),
      /** The signed bundle applied last (DESIGN §8), when there is one. */
      bundle: z.number().int().optional(),
      ...withStatus,
    }),
  )
  .optional();

/**
 * The unit status the agent sends on `<prefix>/status` (DESIGN §5): whole after each connect, with
 * every Aos section present, else deltas with only what changed.
 */
const Sections = z.strictObject({ ...StatusSections, agent: AgentSection, config: ConfigSection });
export const UnitStatus = z.discriminatedUnion('isDeltaInfo', [
  Sections.extend({ messageType: z.literal('unitStatus'), isDeltaInfo: z.literal(false) }),
  Sections.partial().extend({ messageType: z.literal('unitStatus'), isDeltaInfo: z.literal(true) }),
]);

export type UnitStatusT = z.infer<typeof UnitStatus>;
