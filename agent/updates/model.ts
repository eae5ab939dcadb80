import * as z from 'zod';
import { AosDesiredStatus, ItemStatus } from '../../schemas/wire.js';

export const State = z.enum(['noUpdate', 'downloading', 'readyToUpdate', 'updating']);

/** What went wrong, as the unit status and the gRPC API carry it. */
export const ErrorInfo = z.object({
  message: z.string(),
  code: z.string().optional(),
  exitCode: z.number().int().optional(),
});

export const Section = z.enum(['components', 'services', 'layers', 'unitConfig']);

/** An item the unit has, as the diff (DESIGN §7.1) compares against. */
export const Installed = z.object({
  section: Section,
  id: z.string(),
  type: z.string().optional(),
  version: z.string(),
  digest: z.string().optional(),
  status: ItemStatus,
  errorInfo: ErrorInfo.optional(),
});

/** One thing an update installs or removes, and how far it got. */
export const Item = Installed.extend({
  action: z.enum(['install', 'remove']),
  urls: z.array(z.string()).default([]),
  sha256: z.string().optional(),
  size: z.number().optional(),
  /** Bytes downloaded so far. */
  bytes: z.number().optional(),
  /** What it installs when the desired status carries it whole (a unit config), nothing to download. */
  content: z.unknown().optional(),
});

/** A schedule as the machine keeps it: the config's, or the desired status's that overrides it. */
export const Schedule = z.object({
  type: z.enum(['force', 'trigger', 'timetable']),
  timetable: z.array(z.looseObject({})).optional(),
});

/** The update a machine is working through. */
export const Update = z.object({
  /** Digest of the desired items (not the schedule): two desired statuses asking the same thing share it. */
  key: z.string(),
  items: z.array(Item),
  schedule: Schedule,
  /** When it was taken on; with `ttl`, when it is given up if still not installing. */
  createdAt: z.number(),
  ttl: z.number(),
  /** Set by a trigger (gRPC, the `update` action) while ready: the schedule no longer holds it back. */
  triggered: z.boolean().default(false),
});

/** A machine as persisted: every transition is written before it is announced. */
export const MachineRecord = z.object({
  state: State,
  update: Update.nullable(),
  /** The newest desired status waiting for the machine to be free (a single slot: newest wins). */
  pending: AosDesiredStatus.nullable(),
  /** Digest of the last desired part taken (items and schedule): the same again is ignored. */
  lastKey: z.string().nullable(),
  /** How the last update ended, when it did not end well. */
  error: ErrorInfo.nullable(),
});

export type StateT = z.infer<typeof State>;
export type ErrorInfoT = z.infer<typeof ErrorInfo>;
export type SectionT = z.infer<typeof Section>;
export type ItemT = z.infer<typeof Item>;
export type ScheduleT = z.infer<typeof Schedule>;
export type UpdateT = z.infer<typeof Update>;
export type MachineRecordT = z.infer<typeof MachineRecord>;
export type InstalledT = z.infer<typeof Installed>;

/**
 * The key an item has in the unit status and the installed table: components by (type, id),
 * services by (id, version), layers by digest, the unit config by its id (there is one).
 */
export function itemKey(i: {
  section: SectionT;
  id: string;
  type?: string;
  version: string;
  digest?: string;
}): string {
  if (i.section === 'components') return `${i.type}/${i.id}`;
  if (i.section === 'services') return `${i.id}@${i.version}`;
  return i.digest ?? i.id;
}
