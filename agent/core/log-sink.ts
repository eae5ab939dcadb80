import { write, writeSync } from 'node:fs';

/** Most bytes of log lines waiting for a slow reader; past it new lines are dropped and counted. */
const MAX_BACKLOG = 1024 * 1024;
/** At exit, how often a full pipe is tried again (1 ms apart) before what is left is given up. */
const EXIT_TRIES = 50;

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Log lines to a file descriptor that never hold the process: writes go off the main thread one
 * at a time, a reader that falls behind costs at most MAX_BACKLOG (then lines are dropped and
 * counted), and a reader that is gone (EPIPE, any write error) ends logging for good. At exit
 * `flushSync` makes a bounded attempt at what is left. pino's own destination retries a broken
 * pipe forever when it flushes at exit, which kept `run --events | head` alive.
 */
export class LogSink {
  private backlog: Buffer[] = [];
  private bytes = 0;
  private writing = false;
  private dead = false;
  /** Lines dropped because the reader fell too far behind. */
  dropped = 0;

  constructor(private readonly fd: number) {}

  write(line: string): boolean {
    if (this.dead) return true;
    const b = Buffer.from(line);
    if (this.bytes + b.length > MAX_BACKLOG) {
      this.dropped++;
      return true;
    }
    this.backlog.push(b);
    this.bytes += b.length;
    if (!this.writing) this.drain();
    return true;
  }

  private drain(): void {
    if (this.dead || this.backlog.length === 0) {
      this.writing = false;
      return;
    }
    this.writing = true;
    const chunk = Buffer.concat(this.backlog);
    this.backlog = [chunk];
    write(this.fd, chunk, 0, chunk.length, null, (err, n) => {
      if (err && err.code !== 'EAGAIN') return this.die();
      this.consume(err ? 0 : n);
      if (err) setTimeout(() => this.drain(), 10).unref();
      else this.drain();
    });
  }

  /** `n` bytes of the backlog's head were written. */
  private consume(n: number): void {
    this.bytes -= n;
    const rest: Buffer[] = [];
    for (const b of this.backlog) {
      if (n >= b.length) n -= b.length;
      else {
        rest.push(n ? b.subarray(n) : b);
        n = 0;
      }
    }
    this.backlog = rest;
  }

  private die(): void {
    this.dead = true;
    this.writing = false;
    this.backlog = [];
    this.bytes = 0;
  }

  /** At exit: what is left, written now, within a bounded number of tries. */
  flushSync(): void {
    if (this.dead) return;
    // A write still in flight holds the head of the backlog: writing it again would double it.
    let chunk = Buffer.concat(this.writing ? this.backlog.slice(1) : this.backlog);
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
