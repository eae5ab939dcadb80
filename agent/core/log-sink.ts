import { write, writeSync } from 'node:fs';

/**
 * Most log waiting for a slow reader (the encoded head in bytes, the lines not yet encoded in
 * characters); past it new lines are dropped and counted.
 */
const MAX_BACKLOG = 1024 * 1024;
/** At exit, how often a full pipe is tried again (1 ms apart) before what is left is given up. */
const EXIT_TRIES = 50;
/** After a full pipe (EAGAIN), how long before the next try. */
const RETRY_MS = 10;

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Log lines to a file descriptor that never hold the process: writes go off the main thread one
 * at a time, a reader that falls behind costs at most MAX_BACKLOG (then lines are dropped and
 * counted), and a reader that is gone (EPIPE, any write error) ends logging for good. At exit
 * `flushSync` makes a bounded attempt at what is left. pino's own destination retries a broken
 * pipe forever when it flushes at exit, which kept `run --events | head` alive.
 *
 * Lines wait as strings and become bytes once per write, all of them together: a busy agent
 * writes many lines between two writes, and one conversion costs less than one per line.
 */
export class LogSink {
  /** Bytes taken from `lines` and not yet written (the head of the backlog). */
  private head: Buffer | undefined;
  private lines: string[] = [];
  /** Characters in `lines`: counted, not encoded, as each line comes (its bytes are made once per write). */
  private chars = 0;
  /** A write (or a retry after a full pipe) is under way: the next drain comes from its end. */
  private draining = false;
  /** `head` is in a write right now: written again, it would be doubled. */
  private inFlight = false;
  private dead = false;
  /** Callers of `settled` waiting for the backlog to be written. */
  private waiters: (() => void)[] = [];
  /** Lines dropped because the reader fell too far behind. */
  dropped = 0;

  constructor(private readonly fd: number) {}

  write(line: string): boolean {
    if (this.dead) return true;
    if ((this.head?.length ?? 0) + this.chars + line.length > MAX_BACKLOG) {
      this.dropped++;
      return true;
    }
    this.lines.push(line);
    this.chars += line.length;
    if (!this.draining) this.drain();
    return true;
  }

  /** What waits, as one buffer: the unwritten head, then the lines. */
  private take(): Buffer | undefined {
    if (this.lines.length === 0) return this.head;
    const fresh = Buffer.from(this.lines.length === 1 ? this.lines[0]! : this.lines.join(''));
    this.lines = [];
    this.chars = 0;
    return this.head ? Buffer.concat([this.head, fresh]) : fresh;
  }

  private drain(): void {
    this.head = this.dead ? undefined : this.take();
    const chunk = this.head;
    if (chunk === undefined) {
      this.draining = false;
      this.wake();
      return;
    }
    this.draining = true;
    this.inFlight = true;
    write(this.fd, chunk, 0, chunk.length, null, (err, n) => {
      this.inFlight = false;
      if (err && err.code !== 'EAGAIN') return this.die();
      const written = err ? 0 : n;
      this.head = written < chunk.length ? chunk.subarray(written) : undefined;
      if (err) setTimeout(() => this.drain(), RETRY_MS).unref();
      else this.drain();
    });
  }

  private die(): void {
    this.dead = true;
    this.draining = false;
    this.head = undefined;
    this.lines = [];
    this.chars = 0;
    this.wake();
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /**
   * Resolves once nothing waits to be written and no write is under way, or once logging has
   * ended (the reader gone). Before a planned exit: the last lines are then written in order, where
   * `flushSync` at exit cannot wait for a write already in flight.
   */
  settled(): Promise<void> {
    if (!this.draining) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** At exit: what is left, written now, within a bounded number of tries. */
  flushSync(): void {
    if (this.dead) return;
    // A write in flight holds the head: only the lines after it are left to write.
    if (this.inFlight) this.head = undefined;
    let chunk = this.take() ?? Buffer.alloc(0);
    for (let tries = 0; chunk.length > 0 && tries < EXIT_TRIES; tries++) {
      try {
        chunk = chunk.subarray(writeSync(this.fd, chunk));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') break;
        pause(1);
      }
    }
    this.die();
  }
}
