import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { roomUnder } from '../../core/disk-room.js';
import { errors } from '../errors.js';

type Tar = typeof import('tar');
let tar: Tar | undefined;
/** node-tar, loaded with the first archive (kept out of the bundled command, like the addons). */
const lib = (): Tar => (tar ??= createRequire(import.meta.url)('tar') as Tar);

const KINDS = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

/** What one archive may unpack to; a breach aborts the extraction. */
export interface ArchiveLimits {
  /** Total bytes of the files it holds. */
  maxBytes: number;
  maxEntries: number;
  /** Bytes of an entry's path (and of a link's target). */
  maxPath: number;
}

/** A path segment longer than this no Linux file system takes. */
const MAX_NAME = 255;

/**
 * The limits for an artifact: `maxUnpacked` when configured, else `ratio` times the archive's
 * size (at least 16 MiB); never more than the free space under `dir`, less a 5 % reserve.
 */
export async function archiveLimits(
  file: string,
  dir: string,
  o: { maxUnpacked?: number | undefined; ratio: number; maxEntries: number },
): Promise<ArchiveLimits> {
  const size = (await stat(file)).size;
  const free = await roomUnder(dir);
  const wanted = o.maxUnpacked ?? Math.max(size * o.ratio, 16 * 1024 ** 2);
  return { maxBytes: Math.min(wanted, free), maxEntries: o.maxEntries, maxPath: 4096 };
}

/** Whether `p` (relative to the root) stays inside it. */
const inside = (p: string) => {
  const n = path.posix.normalize(p);
  return n !== '..' && !n.startsWith('../') && !path.posix.isAbsolute(n);
};

/** Why an entry may not be unpacked, if it may not. */
function refusal(e: { path: string; type: string; linkpath?: string | undefined }, maxPath: number) {
  const p = e.path;
  if (!KINDS.has(e.type)) return `is a ${e.type}, which an app may not carry`;
  if (Buffer.byteLength(p) > maxPath || p.split('/').some((s) => Buffer.byteLength(s) > MAX_NAME))
    return `has a path longer than ${maxPath} bytes or a name longer than ${MAX_NAME}`;
  if (path.posix.isAbsolute(p) || !inside(p)) return 'escapes the install directory';
  if (e.type === 'SymbolicLink' || e.type === 'Link') {
    const target = e.linkpath ?? '';
    // A symbolic link resolves from its own directory, a hard link from the archive's root.
    const from = e.type === 'SymbolicLink' ? path.posix.dirname(p) : '.';
    if (
      Buffer.byteLength(target) > maxPath ||
      path.posix.isAbsolute(target) ||
      !inside(path.posix.join(from, target))
    )
      return `links to '${target.slice(0, 200)}', outside the install directory`;
  }
  return undefined;
}

/**
 * Unpacks a `.tar.gz` into `dir` (which exists and is empty) in one streaming pass, read 1 MiB at a
 * time: memory does not grow with the archive. Each entry is checked from its header before any
 * of it is written: a path must stay inside the root, a link (hard or symbolic) must point inside
 * it, only files, directories and links are taken (no devices or FIFOs), and the running totals
 * must stay within `limits`. The first breach stops the extraction with PITCREW_UPDATE_ARCHIVE
 * naming the entry, once the writes under way have settled, so the caller can remove what was
 * written.
 */
export async function unpack(file: string, dir: string, limits: ArchiveLimits): Promise<void> {
  let bytes = 0;
  let count = 0;
  await lib().extract({
    cwd: dir,
    file,
    maxReadSize: 1024 * 1024,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    onEntry: (e) => {
      bytes += e.size;
      const why =
        refusal(e, limits.maxPath) ??
        (++count > limits.maxEntries
          ? `is past the ${limits.maxEntries} entries an archive may have`
          : bytes > limits.maxBytes
            ? `takes the archive past the ${limits.maxBytes} bytes it may unpack to`
            : undefined);
      if (why) throw errors.UPDATE_ARCHIVE(e.path.slice(0, 200), why);
    },
  });
}
