import type { Clock, Timer } from '../core/clock.js';
import { errorText } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/**
 * A device looked for again after it failed or went missing, as the serial drivers do: after a
 * delay doubling from `min` to `max`, back to `min` once the device works. Keeps the state and
 * the last error a driver shows in its status.
 */
export class Reopener {
  state = 'closed';
  lastError: string | undefined;
  private delay: number;
  private timer?: Timer;
  private stopped = true;

  constructor(
    private readonly o: {
      what: string;
      clock: Clock;
      log: Logger;
      min: number;
      max: number;
      /** Looks for the device; its failures come back through `failed`. */
      open: () => void | Promise<void>;
    },
  ) {
    this.delay = o.min;
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** The first look, resolved when it has been had (found or not). */
  start(): void | Promise<void> {
    this.stopped = false;
    return this.o.open();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** The device is there: no error to show (and a new state, when given). */
  opened(state?: string): void {
    if (state !== undefined) this.state = state;
    this.lastError = undefined;
  }

  /** The device answered: the next failure waits `min` again. */
  working(): void {
    this.delay = this.o.min;
  }

  /** It failed: said in the status and the log, and tried again after the delay (unless stopped). */
  failed(e: unknown): void {
    this.state = 'waiting';
    this.lastError = errorText(e);
    if (this.stopped) return;
    this.o.log.warn(`${this.o.what}: ${this.lastError}; trying again in ${this.delay} ms`);
    this.timer = this.o.clock.setTimeout(() => void this.o.open(), this.delay);
    this.delay = Math.min(this.delay * 2, this.o.max);
  }
}
