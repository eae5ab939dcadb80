import { write, writeSync } from 'node:fs';

/** Most log waiting for a slow reader, in bytes; past it new lines are dropped and counted. */
const MAX_BACKLOG = 1024 * 1024;
/** The buffer lines are encoded into; a burst grows it, up to the backlog. */
const CHUNK = 64 * 1024;
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
 * A line becomes bytes as it comes, in a buffer that the next write takes whole: the string dies
 * young, where lines kept as strings until the next write outlived the young generation and were
 * joined again (bench/reactor: ~10 % of the rate at 1,000 rules). Two buffers take turns: one is
 * written while the other fills.
 */
export class LogSink {
  /** Bytes taken for a write and not yet written (the head of the backlog). */
  private head: Buffer | undefined;
  /** The buffer behind `head`: filled again once it is written. */
  private sending: Buffer | undefined;
  /** Lines encoded since the last write took the buffer, in `fill[0, filled)`. */
  private fill: Buffer = Buffer.allocUnsafeSlow(CHUNK);
  private filled = 0;
  private spare: Buffer | undefined;
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
    const waiting = (this.head?.length ?? 0) + this.filled;
    // A line has at least as many bytes as characters, and at most three times as many.
    if (waiting + line.length > MAX_BACKLOG) {
      this.dropped++;
      return true;
    }
    if (this.fill.length - this.filled < 3 * line.length) this.grow(3 * line.length);
    const n = this.fill.write(line, this.filled);
    if (waiting + n > MAX_BACKLOG) {
      this.dropped++;
      return true;
    }
    this.filled += n;
    if (!this.draining) this.drain();
    return true;
  }

  private grow(room: number): void {
    const next = Buffer.allocUnsafeSlow(Math.max(2 * this.fill.length, this.filled + room));
    this.fill.copy(next, 0, 0, this.filled);
    this.fill = next;
  }

  /** The lines encoded so far become the head, to be written; the spare buffer fills next. */
  private take(): void {
    this.head = this.fill.subarray(0, this.filled);
    this.sending = this.fill;
    this.fill = this.spare ?? Buffer.allocUnsafeSlow(CHUNK);
    this.spare = undefined;
    this.filled = 0;
  }

  private drain(): void {
    if (this.head === undefined && this.filled > 0 && !this.dead) this.take();
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
      if (written < chunk.length) this.head = chunk.subarray(written);
      else {
        this.head = undefined;
        // A buffer a burst made larger goes: the memory is the burst's, not the agent's.
        if (this.sending?.length === CHUNK) this.spare = this.sending;
        this.sending = undefined;
      }
      if (err) setTimeout(() => this.drain(), RETRY_MS).unref();
      else this.drain();
    });
  }

  private die(): void {
    this.dead = true;
    this.draining = false;
    this.head = undefined;
    this.sending = undefined;
    this.filled = 0;
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
    const left = this.fill.subarray(0, this.filled);
    let chunk = this.inFlight || this.head === undefined ? left : Buffer.concat([this.head, left]);
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
