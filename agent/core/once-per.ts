import { ageOf, type Clock } from './clock.js';

/** Lets one report per key through per window: a fault that repeats is logged, not flooded. */
export class OncePer {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
  ) {}

  /** Whether a report for `key` is due now; when it is, the window starts again. */
  due(key: string): boolean {
    const now = this.clock.now();
    if (ageOf(now, this.last.get(key) ?? Number.NEGATIVE_INFINITY) < this.windowMs) return false;
    this.last.set(key, now);
    return true;
  }
}
