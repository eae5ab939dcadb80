import { ageOf, type Clock } from './clock.js';

/**
 * How many refused messages per source are reported (logged, acknowledged, emitted): a burst,
 * refilled over a window. A source that sends junk as fast as it can costs a few lines a minute,
 * not one per message; the next report says how many were held back.
 */
export class RefusalLimiter {
  private readonly sources = new Map<string, { tokens: number; at: number; held: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly burst = 10,
    private readonly windowMs = 60_000,
  ) {}

  /** Whether this refusal from `source` is reported; `held`: refusals not reported since the last one that was. */
  admit(source: string): { report: boolean; held: number } {
    const now = this.clock.now();
    const s = this.sources.get(source) ?? { tokens: this.burst, at: now, held: 0 };
    this.sources.set(source, s);
    s.tokens = Math.min(this.burst, s.tokens + (ageOf(now, s.at) * this.burst) / this.windowMs);
    s.at = now;
    if (s.tokens < 1) {
      s.held++;
      return { report: false, held: s.held };
    }
    s.tokens -= 1;
    const held = s.held;
    s.held = 0;
    return { report: true, held };
  }
}
