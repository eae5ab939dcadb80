import { execFile } from 'node:child_process';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { errors, errorText } from './errors.js';

/**
 * Flushes what is written to `file` (a file or a directory) to the disk, off the main thread: on
 * a unit's card a large file takes long, which the event loop (rules, the watchdog) must not wait for.
 */
export async function flush(file: string): Promise<void> {
  const f = await open(file, 'r');
  try {
    await f.sync();
  } finally {
    await f.close();
  }
}

/** Flushes every file written on the file system that holds `dir` (coreutils' `sync -f`): after a program wrote many. */
export async function flushFileSystem(dir: string): Promise<void> {
  await promisify(execFile)('sync', ['-f', dir]);
}

const fsyncPath = (file: string, flags: string, data?: string | Uint8Array, mode?: number) => {
  const fd = openSync(file, flags, mode);
  try {
    if (data !== undefined) writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

/** A file beside that could not be written whole: none of a full card's room kept by it (what stands there that is not a file stays). */
const dropPart = (tmp: string) => {
  try {
    unlinkSync(tmp);
  } catch {}
};

/**
 * Writes a small state file so that a crash or a power cut leaves its old content or the new,
 * never a part: a file beside it, flushed, renamed over it, and the directory flushed. A unit
 * loses power whenever the car does; a state file written in place can be left empty. It is on
 * the disk when this returns, as what reads or acknowledges it next expects.
 */
export function writeDurably(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = `${file}.tmp`;
  try {
    fsyncPath(tmp, 'w', data, mode);
  } catch (e) {
    dropPart(tmp);
    throw e;
  }
  renameSync(tmp, file);
  fsyncPath(path.dirname(file), 'r');
}

/**
 * The same, off the main thread, for a file rewritten while the agent runs: on a unit's card a
 * flush takes tens of ms, which rules and the watchdog must not wait for. Resolved once it is on
 * the disk; writes of one file must not overlap (their file beside is the same).
 */
export async function writeDurablyAsync(file: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    const f = await open(tmp, 'w', mode);
    try {
      await f.writeFile(data);
      await f.sync();
    } finally {
      await f.close();
    }
  } catch (e) {
    dropPart(tmp);
    throw e;
  }
  await rename(tmp, file);
  await flush(path.dirname(file));
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
