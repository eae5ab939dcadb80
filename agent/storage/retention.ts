import type { StorageKind, StorageT } from '../../schemas/storage.js';

/** A file the housekeeper may delete. */
export interface Kept {
  path: string;
  kind: StorageKind;
  size: number;
  mtime: number;
}

/**
 * What each kind's retention lets go (DESIGN §13): files older than `max_age`, then the oldest
 * until the kind's total is within `max_size`. Pure, so the rules are tested without a disk.
 */
export function expired(files: readonly Kept[], keep: StorageT['keep'], now: number): Kept[] {
  const out: Kept[] = [];
  const byKind = new Map<StorageKind, Kept[]>();
  for (const f of files) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f]);
  for (const [kind, list] of byKind) {
    const rule = keep[kind];
    if (!rule) continue;
    const oldestFirst = [...list].sort((a, b) => a.mtime - b.mtime);
    let total = list.reduce((n, f) => n + f.size, 0);
    for (const f of oldestFirst) {
      const old = rule.max_age !== undefined && now - f.mtime > rule.max_age;
      const over = rule.max_size !== undefined && total > rule.max_size;
      if (!old && !over) continue;
      out.push(f);
      total -= f.size;
    }
  }
  return out;
}

/**
 * What goes when the free space is below the floor: the oldest file of the lowest-priority kind
 * first (`order`), until `need` bytes are freed or nothing is left to take.
 */
export function toFree(files: readonly Kept[], need: number, order: readonly StorageKind[]): Kept[] {
  const out: Kept[] = [];
  let freed = 0;
  for (const kind of order) {
    for (const f of files.filter((x) => x.kind === kind).sort((a, b) => a.mtime - b.mtime)) {
      if (freed >= need) return out;
      out.push(f);
      freed += f.size;
    }
  }
  return out;
}

/** The floor in bytes: a share of the filesystem (`10%`) or bytes. */
export const floorBytes = (minFree: string | number, total: number) =>
  typeof minFree === 'number' ? minFree : Math.ceil((Number.parseFloat(minFree) / 100) * total);
