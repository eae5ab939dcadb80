import { execFile } from 'node:child_process';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { errors, errorText } from './errors.js';

/** Flushes what is written to `file` (a file or a directory) to the disk. */
export function flush(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes every file written on the file system that holds `dir` (coreutils' `sync -f`): after a program wrote many. */
export async function flushFileSystem(dir: string): Promise<void> {
  await promisify(execFile)('sync', ['-f', dir]);
}

/** Writes `text` (or bytes) to `file` and flushes it to the disk before it returns. */
export function writeFlushed(file: string, data: string | Uint8Array, mode = 0o600): void {
  const fd = openSync(file, 'w', mode);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `file` so that a crash or a power cut leaves its old content or the new, never a part:
 * a file beside it, flushed, renamed over it, and the directory flushed. A unit loses power
 * whenever the car does; a state file written in place can be left empty.
 */
export function writeDurably(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = `${file}.tmp`;
  writeFlushed(tmp, data, mode);
  renameSync(tmp, file);
  flush(path.dirname(file));
}

/** A JSON file's content, or undefined when there is no file; PITCREW_STATE_UNREADABLE when it is not JSON. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw errors.STATE_UNREADABLE(file, errorText(e));
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw errors.STATE_UNREADABLE(file, `${text.length} bytes, not JSON: ${errorText(e)}`);
  }
}
