import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { OncePer } from './once-per.js';

/** Distinct errors tracked at once; past it new ones are still logged, only not deduplicated. */
const MAX_KEYS = 1000;

/**
 * Logs a repeating error the first time it happens, then at most once per window, saying how
 * often it happened since the last line: counted errors are also seen, and a failing message
 * every second writes one line a minute, not sixty.
 */
export class ErrorReports {
  private readonly since = new Map<string, number>();
  private readonly once: OncePer;

  constructor(
    clock: Clock,
    private readonly log: Logger,
    windowMs = 60_000,
  ) {
    this.once = new OncePer(clock, windowMs);
  }

  report(key: string, message: string, fields: Record<string, unknown> = {}): void {
    const n = (this.since.get(key) ?? 0) + 1;
    if (this.since.size >= MAX_KEYS && !this.since.has(key)) this.since.clear();
    if (!this.once.due(key)) {
      this.since.set(key, n);
      return;
    }
    this.since.set(key, 0);
    this.log.warn({ ...fields, count: n }, n > 1 ? `${message} (${n} times since the last line)` : message);
  }
}
