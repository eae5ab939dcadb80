/** Every timer in the agent goes through a Clock, so tests drive time with FakeClock instead of sleeping. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
}

/**
 * How long ago `at` was, by the wall clock. An `at` after `now` (the clock set back: a GNSS week
 * rollover, a unit without a battery-backed clock restored ahead) counts as long ago, so no window
 * it began (a throttle, a report's, a reading's freshness) holds for as long as the clock went back.
 */
export const ageOf = (now: number, at: number): number => (at > now ? Number.POSITIVE_INFINITY : now - at);

/** Longest delay Node's setTimeout takes (2^31 - 1 ms, 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    // A long wait (`for: 30d`, a TTL) runs as a chain of shorter timers towards its due time.
    const due = Date.now() + Math.max(0, ms);
    let h: NodeJS.Timeout;
    const arm = () => {
      const left = due - Date.now();
      h = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fn, Math.max(0, left));
    };
    arm();
    return { cancel: () => clearTimeout(h) };
  },
};

/** A clock whose pending timers can all be cancelled at once. */
export interface ScopedClock extends Clock {
  cancelAll(): void;
}

/**
 * `clock`, its timers tracked until they fire or are cancelled: what one run of a service schedules
 * (a hook's hold, a driver's retry) ends when the run ends, and fires from no stopped service.
 */
export function timerScope(clock: Clock): ScopedClock {
  const pending = new Set<Timer>();
  return {
    now: () => clock.now(),
    setTimeout(fn, ms) {
      const timer = clock.setTimeout(() => {
        pending.delete(timer);
        fn();
      }, ms);
      pending.add(timer);
      return {
        cancel: () => {
          pending.delete(timer);
          timer.cancel();
        },
      };
    },
    cancelAll() {
      for (const timer of pending) timer.cancel();
      pending.clear();
    },
  };
}

/**
 * The real clock running `factor` times faster: time, timers, workers, rules and the simulated car
 * all at once (a soak test or a demo lives an hour in a minute).
 */
export function scaledClock(factor: number): Clock {
  const t0 = Date.now();
  return {
    now: () => t0 + (Date.now() - t0) * factor,
    setTimeout: (fn, ms) => realClock.setTimeout(fn, ms / factor),
  };
}

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Yields to the event loop so promise chains started by a timer can settle. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A clock that moves only when told to. Timers due at the same time run in the order they were set. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start = Date.UTC(2026, 0, 5, 8, 0, 0)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const p: Pending = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.pending.push(p);
    return {
      cancel: () => {
        p.cancelled = true;
      },
    };
  }

  /** Timers still waiting. */
  get timers(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }

  /** When the earliest timer still waiting falls due. */
  get nextAt(): number | undefined {
    let at: number | undefined;
    for (const p of this.pending) if (!p.cancelled && (at === undefined || p.at < at)) at = p.at;
    return at;
  }

  /** Moves time forward by `ms`, running every timer that falls due (and those they set) in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await settle();
    for (;;) {
      this.pending = this.pending.filter((p) => !p.cancelled);
      let next: Pending | undefined;
      for (const p of this.pending)
        if (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq)) next = p;
      if (!next || next.at > target) break;
      this.pending.splice(this.pending.indexOf(next), 1);
      this.t = Math.max(this.t, next.at);
      next.fn();
      await settle();
    }
    this.t = target;
  }

  /**
   * Sets the wall clock `ms` forward (back, when negative) with no time passing, as an NTP step or
   * a GNSS receiver does: its timers, which count elapsed time as Node's do, fall due as they would have.
   */
  jump(ms: number): void {
    this.t += ms;
    for (const p of this.pending) p.at += ms;
  }

  /** Lets pending promise work finish without moving time. */
  async flush(): Promise<void> {
    await this.advance(0);
  }
}
