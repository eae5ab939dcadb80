import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { rename, rm, stat, statfs } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { RestartT } from '../../schemas/services.js';
import { backoffDelay } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { errors, errorText, isCatalogued, PitcrewError } from '../errors.js';

/** What to fetch: mirrors tried in order, and what the file must be. */
export interface Artifact {
  id: string;
  urls: string[];
  sha256: string;
  size: number;
}

export interface DownloaderOptions {
  dir: string;
  parallel: number;
  retry: { min: number; max: number };
  clock: Clock;
  log: Logger;
  /** A connection that sends nothing for this long is dropped and retried. */
  idleMs?: number;
}

/** A failure retrying cannot mend (a 404, a full disk): the item fails. */
export class PermanentError extends PitcrewError {}

const permanent = (e: PitcrewError) => Object.assign(new PermanentError(e.code, e.message), { key: e.key });

/** Waits `ms` on the agent's clock, or until `signal` aborts. */
function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      t.cancel();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function sizeOf(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.size,
    () => 0,
  );
}

async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

/**
 * Verified, resumable downloads (DESIGN §7.3): at most `parallel` at once; a partial file is
 * continued with an HTTP Range request (after a dropped connection or a restart); the finished file
 * must have the exact size and SHA-256, else it is deleted and fetched again; failures are retried
 * with doubling backoff between `retry.min` and `retry.max` until success or abort. Files are
 * named by their digest, so a finished download survives a restart and is not fetched twice.
 */
export class Downloader {
  private running = 0;
  /** Doubling from retry.min to retry.max, no jitter: the supervisor's backoff with these settings. */
  private readonly backoff: RestartT;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly o: DownloaderOptions) {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    this.backoff = { delay: o.retry.min, max_delay: o.retry.max, factor: 2, jitter: 0 };
  }

  fileOf(a: Pick<Artifact, 'sha256'>): string {
    return path.join(this.o.dir, a.sha256);
  }

  /** Downloads until it has the verified file (its path), `signal` aborts, or a failure is permanent. */
  async fetch(a: Artifact, signal: AbortSignal, onProgress: (bytes: number) => void): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      await this.slot(signal);
      try {
        return await this.attempt(a, signal, onProgress);
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        if (e instanceof PermanentError) throw e;
        this.o.log.warn({ id: a.id, attempt: attempt + 1 }, `${errorText(e)}; retrying`);
      } finally {
        this.release();
      }
      await sleep(this.o.clock, backoffDelay(this.backoff, attempt), signal);
    }
  }

  /** Deletes what a download left (an ended update's files); at once, so a download starting next is not hit. */
  discard(a: Pick<Artifact, 'sha256'>): void {
    const file = this.fileOf(a);
    rmSync(file, { force: true });
    rmSync(`${file}.part`, { force: true });
  }

  private async slot(signal: AbortSignal): Promise<void> {
    while (this.running >= this.o.parallel) {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal.removeEventListener('abort', stop);
          resolve();
        };
        const stop = () => {
          this.waiting.splice(this.waiting.indexOf(go), 1);
          reject(signal.reason);
        };
        this.waiting.push(go);
        signal.addEventListener('abort', stop, { once: true });
      });
    }
    this.running++;
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }

  private async attempt(
    a: Artifact,
    signal: AbortSignal,
    onProgress: (bytes: number) => void,
  ): Promise<string> {
    const file = this.fileOf(a);
    if ((await sizeOf(file)) === a.size && (await sha256Of(file)) === a.sha256) return file;
    const part = `${file}.part`;
    let have = await sizeOf(part);
    if (have > a.size) {
      await rm(part, { force: true });
      have = 0;
    }
    await this.checkDisk(a.size - have);
    let last: unknown;
    for (const url of a.urls) {
      try {
        if (have < a.size) have = await this.get(url, part, have, a.size, signal, onProgress);
        last = undefined;
        break;
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        last = e;
        have = await sizeOf(part);
      }
    }
    if (last !== undefined) throw last;
    if (have !== a.size || (await sha256Of(part)) !== a.sha256) {
      await rm(part, { force: true });
      onProgress(0);
      throw errors.UPDATE_VERIFY(a.id, have !== a.size ? `${have} bytes, not ${a.size}` : 'SHA-256 differs');
    }
    await rename(part, file);
    return file;
  }

  private async checkDisk(need: number): Promise<void> {
    const s = await statfs(this.o.dir);
    const free = s.bavail * s.bsize;
    if (free < need) throw permanent(errors.UPDATE_DISK(this.o.dir, need, free));
  }

  /** One request from `have` on, appended to `part`; resolves with the bytes the file then has. */
  private get(
    url: string,
    part: string,
    have: number,
    size: number,
    signal: AbortSignal,
    onProgress: (bytes: number) => void,
  ): Promise<number> {
    const lib = url.startsWith('https:') ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.get(url, { signal, headers: have > 0 ? { range: `bytes=${have}-` } : {} }, (res) => {
        const code = res.statusCode ?? 0;
        const resumed = code === 206 && (res.headers['content-range'] ?? '').startsWith(`bytes ${have}-`);
        if (code !== 200 && !resumed) {
          res.resume();
          const e = errors.UPDATE_HTTP(url, `HTTP ${code}${code === 206 ? ' for another range' : ''}`);
          // Client errors other than a timeout, a rate limit or a bad range do not mend by retrying.
          reject(code >= 400 && code < 500 && ![408, 416, 429].includes(code) ? permanent(e) : e);
          if (code === 416 || code === 206) void rm(part, { force: true });
          return;
        }
        let bytes = resumed ? have : 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > size) res.destroy(errors.UPDATE_HTTP(url, `more than the ${size} bytes expected`));
          else onProgress(bytes);
        });
        pipeline(res, createWriteStream(part, { flags: resumed ? 'a' : 'w', mode: 0o600 })).then(
          () => resolve(bytes),
          (e: unknown) =>
            reject(isCatalogued(e, errors.UPDATE_HTTP) ? e : errors.UPDATE_HTTP(url, errorText(e))),
        );
      });
      req.setTimeout(this.o.idleMs ?? 30_000, () => req.destroy(new Error('no data for too long')));
      req.on('error', (e) => reject(signal.aborted ? signal.reason : errors.UPDATE_HTTP(url, errorText(e))));
    });
  }
}
