import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { rename, rm, stat, statfs } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { RestartT } from '../../schemas/services.js';
import { backoffDelay } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';
import { flush } from '../core/durable-file.js';
import type { Logger } from '../core/logger.js';
import { fileDigest } from './digest.js';
import { errors, errorText, isCatalogued, PitcrewError } from './errors.js';

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
  /** Doubling waits from `min` to `max`; an item fails after `attempts`, or `deadline` ms after it began. */
  retry: { min: number; max: number; attempts: number; deadline?: number | undefined };
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

/** One download, however many items want its digest. */
interface Shared {
  done: Promise<string>;
  abort: AbortController;
  users: number;
  listeners: Set<(bytes: number) => void>;
}

/**
 * Verified, resumable downloads (DESIGN §7.3): at most `parallel` at once; a partial file is
 * continued with an HTTP Range request (after a dropped connection or a restart); the finished file
 * must have the exact size and SHA-256, else it is deleted and fetched again; failures are retried
 * with doubling backoff between `retry.min` and `retry.max`, up to `retry.attempts` and
 * `retry.deadline`, then the item fails. Files are named by their digest: a finished download
 * survives a restart and is not fetched twice, and items with the same digest share one download.
 */
export class Downloader {
  private running = 0;
  /** Doubling from retry.min to retry.max, no jitter: the supervisor's backoff with these settings. */
  private readonly backoff: RestartT;
  private readonly waiting: (() => void)[] = [];
  private readonly shared = new Map<string, Shared>();

  constructor(private readonly opts: DownloaderOptions) {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.backoff = { delay: opts.retry.min, max_delay: opts.retry.max, factor: 2, jitter: 0 };
  }

  fileOf(a: Pick<Artifact, 'sha256'>): string {
    return path.join(this.opts.dir, a.sha256);
  }

  /**
   * Downloads until it has the verified file (its path), `signal` aborts, a failure is permanent or
   * the retry budget is spent. A download of the same digest already under way is joined; it stops
   * only when every item that waits for it has aborted.
   */
  fetch(a: Artifact, signal: AbortSignal, onProgress: (bytes: number) => void): Promise<string> {
    let s = this.shared.get(a.sha256);
    if (!s || s.abort.signal.aborted) {
      const abort = new AbortController();
      const listeners = new Set<(bytes: number) => void>();
      // One given up but not yet settled still writes its partial file: this one resumes it after.
      const before = s?.done.catch(() => {}) ?? Promise.resolve();
      const done = before
        .then(() =>
          this.fetchOne(a, abort.signal, (b) => {
            for (const l of listeners) l(b);
          }),
        )
        .finally(() => {
          if (this.shared.get(a.sha256) === entry) this.shared.delete(a.sha256);
        });
      const entry = { done, abort, users: 0, listeners };
      s = entry;
      this.shared.set(a.sha256, s);
    }
    const joined = s;
    joined.users++;
    joined.listeners.add(onProgress);
    return new Promise((resolve, reject) => {
      const leave = () => {
        joined.listeners.delete(onProgress);
        if (--joined.users === 0) joined.abort.abort(signal.reason);
        reject(signal.reason);
      };
      if (signal.aborted) return leave();
      signal.addEventListener('abort', leave, { once: true });
      joined.done.then(resolve, reject).finally(() => signal.removeEventListener('abort', leave));
    });
  }

  private async fetchOne(
    a: Artifact,
    outer: AbortSignal,
    onProgress: (bytes: number) => void,
  ): Promise<string> {
    const { attempts, deadline } = this.opts.retry;
    const ac = new AbortController();
    const forward = () => ac.abort(outer.reason);
    outer.addEventListener('abort', forward, { once: true });
    // The deadline bounds the attempt under way too: a server that trickles a byte now and then is cut off.
    const timer =
      deadline === undefined
        ? undefined
        : this.opts.clock.setTimeout(
            () => ac.abort(permanent(errors.UPDATE_GAVE_UP(a.id, `after its deadline of ${deadline} ms`))),
            deadline,
          );
    const signal = ac.signal;
    try {
      for (let attempt = 1; ; attempt++) {
        await this.slot(signal);
        try {
          return await this.attempt(a, signal, onProgress);
        } catch (e) {
          if (signal.aborted) throw signal.reason;
          if (e instanceof PermanentError) throw e;
          if (attempt >= attempts)
            throw permanent(
              errors.UPDATE_GAVE_UP(a.id, `after ${attempts} attempts (last: ${errorText(e)})`),
            );
          this.opts.log.warn({ id: a.id, attempt }, `${errorText(e)}; retrying`);
        } finally {
          this.release();
        }
        await sleep(this.opts.clock, backoffDelay(this.backoff, attempt - 1), signal);
      }
    } finally {
      timer?.cancel();
      outer.removeEventListener('abort', forward);
    }
  }

  /**
   * Deletes what a download left (an ended update's files): at once when none of that digest is
   * under way; after it settles when it was given up (it may still write); not while another
   * item still wants it.
   */
  discard(a: Pick<Artifact, 'sha256'>): void {
    const file = this.fileOf(a);
    const rm = () => {
      if (this.shared.has(a.sha256)) return;
      rmSync(file, { force: true });
      rmSync(`${file}.part`, { force: true });
    };
    const s = this.shared.get(a.sha256);
    if (!s) rm();
    else if (s.abort.signal.aborted) void s.done.catch(() => {}).then(rm);
  }

  private async slot(signal: AbortSignal): Promise<void> {
    while (this.running >= this.opts.parallel) {
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
    if ((await sizeOf(file)) === a.size && (await fileDigest(file, a.sha256)) === a.sha256) return file;
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
    if (have !== a.size || (await fileDigest(part, a.sha256)) !== a.sha256) {
      await rm(part, { force: true });
      onProgress(0);
      throw errors.UPDATE_VERIFY(a.id, have !== a.size ? `${have} bytes, not ${a.size}` : 'SHA-256 differs');
    }
    // Verified, then on the disk before it is named done: a power cut leaves a partial file to go on
    // from, never a finished one that is empty.
    await flush(part);
    await rename(part, file);
    await flush(path.dirname(file));
    return file;
  }

  private async checkDisk(need: number): Promise<void> {
    const s = await statfs(this.opts.dir);
    const free = s.bavail * s.bsize;
    if (free < need) throw permanent(errors.UPDATE_DISK(this.opts.dir, need, free));
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
          const redirect = code >= 300 && code < 400;
          const e = errors.UPDATE_HTTP(
            url,
            `HTTP ${code}${code === 206 ? ' for another range' : redirect ? ': redirects are not followed, give the final URL' : ''}`,
          );
          // Redirects, and client errors other than a timeout, a rate limit or a bad range, do not mend by retrying.
          reject(
            redirect || (code >= 400 && code < 500 && ![408, 416, 429].includes(code)) ? permanent(e) : e,
          );
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
      req.setTimeout(this.opts.idleMs ?? 30_000, () => req.destroy(new Error('no data for too long')));
      req.on('error', (e) => reject(signal.aborted ? signal.reason : errors.UPDATE_HTTP(url, errorText(e))));
    });
  }
}
