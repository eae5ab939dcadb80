import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as z from 'zod';
import type { BundleFile } from '../config/schema.js';
import { flush, flushFileSystem } from '../core/durable-file.js';
import { errors } from './errors.js';

/**
 * The files a bundle carries, written under `dir` (`data_dir/rollout/bundle-<version>/`) only once
 * every one matches its SHA-256: one wrong file refuses the bundle whole, and nothing is written.
 * Paths are names the schema already checked (no `..`, nothing absolute), so none leaves `dir`.
 * `own`: the unit's files beside them (its overlay), by name. All are written into a directory
 * beside `dir`, flushed to the disk, then renamed into place: a power cut leaves the bundle whole
 * or not there.
 */
export async function writeBundleFiles(
  dir: string,
  files: Record<string, z.output<typeof BundleFile>>,
  own: Record<string, string>,
): Promise<string> {
  const decoded = Object.entries(files).map(([rel, f]) => {
    const bytes = Buffer.from(f.content, 'base64');
    if (createHash('sha256').update(bytes).digest('hex') !== f.sha256)
      throw errors.SIGNATURE(`file ${rel} does not match its sha256: the bundle was refused whole`);
    return [rel, bytes] as const;
  });
  const staging = `${dir}.writing`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  for (const [rel, data] of [...decoded, ...Object.entries(own)]) {
    const file = path.join(staging, ...rel.split('/'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, data, { mode: 0o600 });
  }
  await flushFileSystem(staging);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  await flush(path.dirname(dir));
  return dir;
}
