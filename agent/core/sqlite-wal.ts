/** Bytes of a WAL file's header and of each frame's header (sqlite.org/fileformat2.html#walformat). */
const WAL_HEADER = 32;
const FRAME_HEADER = 24;
/** A WAL's magic number; its low bit says the byte order of its checksums (1: big-endian). */
const MAGIC = 0x377f0682;

/** A database file's page size, from its header (1 stands for 65536); undefined for a file too short to have one. */
function pageSizeOf(db: Uint8Array): number | undefined {
  if (db.length < 100) return undefined;
  const size = (db[16]! << 8) | db[17]!;
  return size === 1 ? 65536 : size;
}

/** SQLite's WAL checksum of `length` bytes (a multiple of 8) at `at`, continued from `sum`. */
function checksum(view: DataView, at: number, length: number, sum: [number, number], littleEndian: boolean) {
  let [s0, s1] = sum;
  for (let i = at; i < at + length; i += 8) {
    s0 = (s0 + view.getUint32(i, littleEndian) + s1) >>> 0;
    s1 = (s1 + view.getUint32(i + 4, littleEndian) + s0) >>> 0;
  }
  return [s0, s1] as [number, number];
}

/**
 * A database file's bytes with what its write-ahead log committed put in place, as SQLite does when
 * it opens the file: for a card the kernel remounted read-only, where SQLite itself cannot (it
 * would make a shared-memory file beside the log), so what a crash left in the log alone is not
 * lost. Frames count while their salt and cumulative checksum hold, and up to the last of them that
 * ends a transaction; a log that is not one, or not this file's (another page size), changes nothing.
 */
export function withWal(db: Buffer, wal: Uint8Array): Buffer {
  if (wal.length < WAL_HEADER) return db;
  const view = new DataView(wal.buffer, wal.byteOffset, wal.byteLength);
  const magic = view.getUint32(0);
  if ((magic | 1) !== (MAGIC | 1)) return db;
  const littleEndian = magic === MAGIC;
  const pageSize = view.getUint32(8);
  const dbPageSize = pageSizeOf(db);
  if ((dbPageSize !== undefined && pageSize !== dbPageSize) || pageSize < 512 || pageSize & (pageSize - 1))
    return db;
  let sum = checksum(view, 0, 24, [0, 0], littleEndian);
  if (sum[0] !== view.getUint32(24) || sum[1] !== view.getUint32(28)) return db;
  const salt = [view.getUint32(16), view.getUint32(20)];
  const frames: number[] = [];
  let committed = 0;
  let pages = 0;
  for (let at = WAL_HEADER; at + FRAME_HEADER + pageSize <= wal.length; at += FRAME_HEADER + pageSize) {
    // Frames of an earlier cycle of the log (before it was restarted) carry its salt: the log ends there.
    if (view.getUint32(at + 8) !== salt[0] || view.getUint32(at + 12) !== salt[1]) break;
    sum = checksum(view, at, 8, sum, littleEndian);
    sum = checksum(view, at + FRAME_HEADER, pageSize, sum, littleEndian);
    if (sum[0] !== view.getUint32(at + 16) || sum[1] !== view.getUint32(at + 20)) break;
    frames.push(at);
    const size = view.getUint32(at + 4);
    if (size !== 0) {
      committed = frames.length;
      pages = size;
    }
  }
  if (committed === 0) return db;
  const out = Buffer.alloc(pages * pageSize);
  db.copy(out, 0, 0, Math.min(db.length, out.length));
  for (const at of frames.slice(0, committed)) {
    const page = view.getUint32(at);
    // A page past the last transaction's size was cut off by it.
    if (page >= 1 && page <= pages)
      out.set(wal.subarray(at + FRAME_HEADER, at + FRAME_HEADER + pageSize), (page - 1) * pageSize);
  }
  return out;
}
