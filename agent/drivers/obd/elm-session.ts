import type { Clock, Timer } from '../../core/clock.js';
import { errors } from '../errors.js';

/** Longest answer kept while waiting for the prompt; past it the adapter is talking nonsense. */
const MAX_REPLY = 4096;

interface Request {
  command: string;
  timeout: number;
  resolve(text: string): void;
  reject(e: Error): void;
}

/**
 * The conversation with an ELM327: one command in flight at a time (a byte sent while the adapter
 * is busy interrupts it), the others queued; an answer is everything up to the `>` prompt. A
 * request whose prompt does not come in time fails with PITCREW_OBD_TIMEOUT and the queue moves
 * on; bytes that arrive with no request in flight (a late answer) are dropped.
 */
export class ElmSession {
  private queue: Request[] = [];
  private current?: Request;
  private timer?: Timer;
  private text = '';

  constructor(
    private readonly write: (data: string) => void,
    private readonly clock: Clock,
  ) {}

  send(command: string, timeout: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ command, timeout, resolve, reject });
      if (!this.current) this.next();
    });
  }

  /** Bytes from the port. */
  feed(chunk: Buffer): void {
    if (!this.current) return;
    this.text += chunk.toString('latin1');
    const end = this.text.indexOf('>');
    if (end >= 0) this.finish(undefined, this.text.slice(0, end));
    else if (this.text.length > MAX_REPLY)
      this.finish(errors.OBD_REPLY(this.current.command, 'GARBAGE', this.text.slice(0, 200)));
  }

  /** The port went away: every request fails with `why`. */
  reset(why: Error): void {
    const all = this.current ? [this.current, ...this.queue] : this.queue;
    this.timer?.cancel();
    this.current = undefined;
    this.queue = [];
    this.text = '';
    for (const r of all) r.reject(why);
  }

  private next(): void {
    const r = this.queue.shift();
    this.current = r;
    this.text = '';
    if (!r) return;
    this.timer = this.clock.setTimeout(
      () => this.finish(errors.OBD_TIMEOUT(r.command, r.timeout, this.text)),
      r.timeout,
    );
    try {
      this.write(`${r.command}\r`);
    } catch (e) {
      this.finish(e as Error);
    }
  }

  private finish(error: Error | undefined, text = ''): void {
    const r = this.current!;
    this.timer?.cancel();
    this.current = undefined;
    if (error) r.reject(error);
    else r.resolve(text);
    this.next();
  }
}
