import * as z from 'zod';
import { WireTimetableEntry } from './common.js';

/** Signed envelope for desired status and rule bundles: Ed25519 over the payload bytes. */
export const SignedEnvelope = z.strictObject({
  payload: z.base64(),
  signature: z.base64(),
  key_id: z.string().min(1),
});

const Artifact = {
  urls: z.array(z.url()).min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
};

const WireSchedule = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('force'), ttl: z.number().int().positive().optional() }),
  z.strictObject({ type: z.literal('trigger'), ttl: z.number().int().positive().optional() }),
  z.strictObject({
    type: z.literal('timetable'),
    ttl: z.number().int().positive().optional(),
    timetable: z.array(WireTimetableEntry).min(1),
  }),
]);

export const DesiredStatus = z.looseObject({
  messageType: z.literal('desiredStatus'),
  unitConfig: z.looseObject({ version: z.string() }).optional(),
  components: z
    .array(
      z.looseObject({
        id: z.string().min(1),
        type: z.string().min(1),
        version: z.string().min(1),
        ...Artifact,
      }),
    )
    .default([]),
  services: z
    .array(z.looseObject({ id: z.string().min(1), version: z.string().min(1), ...Artifact }))
    .default([]),
  layers: z
    .array(
      z.looseObject({
        id: z.string().min(1),
        digest: z.string().min(1),
        version: z.string().min(1),
        ...Artifact,
      }),
    )
    .default([]),
  fotaSchedule: WireSchedule.optional(),
  sotaSchedule: WireSchedule.optional(),
});

export const Event = z.strictObject({
  tag: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  ts: z.number(),
  source: z.string(),
});

export type WireScheduleT = z.infer<typeof WireSchedule>;
export type SignedEnvelopeT = z.infer<typeof SignedEnvelope>;
export type DesiredStatusT = z.infer<typeof DesiredStatus>;

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

const ErrorInfo = z.looseObject({ message: z.string(), code: z.string().optional() });
const withStatus = { status: ItemStatus, errorInfo: ErrorInfo.optional() };

/** The unit status the agent sends on `<prefix>/status`: whole after each connect, else deltas. */
export const UnitStatus = z.strictObject({
  messageType: z.literal('unitStatus'),
  isDeltaInfo: z.boolean(),
  unitConfig: z.array(z.looseObject({ version: z.string(), ...withStatus })).optional(),
  components: z
    .array(z.looseObject({ id: z.string(), type: z.string(), version: z.string(), ...withStatus }))
    .optional(),
  layers: z
    .array(z.looseObject({ id: z.string(), digest: z.string(), version: z.string(), ...withStatus }))
    .optional(),
  services: z.array(z.looseObject({ id: z.string(), version: z.string(), ...withStatus })).optional(),
  /** The agent's own services and their workers. */
  agent: z
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
    .optional(),
});

export type UnitStatusT = z.infer<typeof UnitStatus>;
