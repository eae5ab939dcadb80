import { ago, bytes } from './status-text.js';

/** Where a long job is: its bytes done of a known total, items done, and a position of its own. */
export interface Position {
  done: number;
  items: number;
  /** What the job has reached, in its own terms (a drive's time of day). */
  at?: string;
}

/** How often the line is redrawn: often enough to look alive, rarely enough to cost nothing. */
const EVERY_MS = 250;

/**
 * One line of progress on a terminal, redrawn in place: percent, bytes, items per second, position
 * and time left. Nothing at all when the stream is not a terminal (piped, or in a log).
 */
export class Progress {
  private readonly started: number;
  private drawn = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly out: { isTTY?: boolean; write(s: string): unknown },
    private readonly total: number,
    private readonly what: string,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  update(p: Position): void {
    if (!this.out.isTTY) return;
    const t = this.now();
    if (t - this.drawn < EVERY_MS) return;
    this.drawn = t;
    this.out.write(`\r${this.line(p, t - this.started)}\x1b[K`);
  }

  /** Clears the line, so what is printed next starts clean. */
  end(): void {
    if (this.out.isTTY && this.drawn > Number.NEGATIVE_INFINITY) this.out.write('\r\x1b[K');
  }

  line(p: Position, elapsed: number): string {
    const share = this.total > 0 ? Math.min(1, p.done / this.total) : 0;
    const parts = [`${(share * 100).toFixed(0).padStart(3)} %`, `${bytes(p.done)} of ${bytes(this.total)}`];
    if (elapsed > 0)
      parts.push(`${Math.round((p.items / elapsed) * 1000).toLocaleString('en')} ${this.what}/s`);
    if (p.at) parts.push(`at ${p.at}`);
    if (elapsed > 0 && share > 0) parts.push(`${ago((elapsed * (1 - share)) / share)} left`);
    return parts.join(' · ');
  }
}
