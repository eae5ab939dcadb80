import * as z from 'zod';
import { Bytes, Duration } from './common.js';

/** What a kind of data may keep: its age and total size. */
const Keep = z.strictObject({ max_age: Duration.optional(), max_size: Bytes.optional() });

/** Kinds of data the housekeeper looks after, lowest priority first: the first to go when space is short. */
export const STORAGE_KINDS = ['logs', 'drives', 'downloads', 'bundles', 'last_known_good'] as const;

/** Disk housekeeping (DESIGN §13): retention per kind and a free-space floor for `data_dir`. */
export const Storage = z.strictObject({
  /** Free space `data_dir`'s filesystem keeps: `10%` or bytes (`500MB`). */
  min_free: z
    .union([
      z.string().regex(/^\d+(\.\d+)?%$/, { error: 'a share such as 10%, or bytes such as 500MB' }),
      Bytes,
    ])
    .default('10%'),
  /** How often it looks. */
  every: Duration.default(600_000),
  keep: z.partialRecord(z.enum(STORAGE_KINDS), Keep).default({}),
  /** Where each kind lives, relative to `data_dir` unless absolute. */
  dirs: z.partialRecord(z.enum(STORAGE_KINDS), z.string().min(1)).default({}),
});

export type StorageT = z.infer<typeof Storage>;
export type StorageKind = (typeof STORAGE_KINDS)[number];
