import * as z from 'zod';

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

const WireTimeSlot = z.strictObject({ start: z.string(), end: z.string() });
const WireSchedule = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('force'), ttl: z.number().int().positive().optional() }),
  z.strictObject({ type: z.literal('trigger'), ttl: z.number().int().positive().optional() }),
  z.strictObject({
    type: z.literal('timetable'),
    ttl: z.number().int().positive().optional(),
    timetable: z
      .array(
        z.strictObject({
          dayOfWeek: z.number().int().min(1).max(7),
          timeSlots: z.array(WireTimeSlot).min(1),
        }),
      )
      .min(1),
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

export type SignedEnvelopeT = z.infer<typeof SignedEnvelope>;
export type DesiredStatusT = z.infer<typeof DesiredStatus>;
