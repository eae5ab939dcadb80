import { realClock } from '../core/clock.js';
import { within } from '../core/deadline.js';
import type { Logger } from '../core/logger.js';
import type { Extension } from '../core/types.js';
import { errors, errorText, PitcrewError } from '../errors.js';

/** How long each part of the agent may take to stop before the stop goes on without it. */
const PART_STOP_MS = 1000;

/** A part and the config key it serves, so a failed start can say which setting to fix. */
export interface Mounted {
  ext: Extension;
  key?: string;
}

/**
 * The parts that start in order and stop in reverse: a start that fails names its config key and
 * leaves the started ones to `rollback`; every stop is bounded on the wall clock, so one that
 * never finishes (a silent broker, a module's stop that hangs) is left behind, said, and the stop
 * goes on.
 */
export class MountedParts {
  private started: Extension[] = [];

  constructor(private readonly log: Logger) {}

  async start({ ext, key }: Mounted): Promise<void> {
    try {
      await ext.start();
    } catch (e) {
      const err = e instanceof PitcrewError ? e : errors.START_FAILED(ext.name, errorText(e));
      throw key && !err.key ? err.at(key) : err;
    }
    this.started.push(ext);
  }

  /** After a failed start: what started stops, unbounded and quietly (it is already an error). */
  async rollback(): Promise<void> {
    for (const ext of this.started.splice(0).reverse()) await ext.stop().catch(() => {});
  }

  /** Stops what started, last first, each within PART_STOP_MS. */
  async stop(): Promise<void> {
    for (const ext of this.started.splice(0).reverse()) await this.bounded(ext.name, () => ext.stop());
  }

  /** Runs a stop within PART_STOP_MS; past it, or when it fails, says so and goes on. */
  bounded = (name: string, stop: () => Promise<void>): Promise<void> =>
    within(realClock, PART_STOP_MS, stop(), () => new Error(`not stopped within ${PART_STOP_MS} ms`)).catch(
      (e) => this.log.warn(`stopping ${name}: ${errorText(e)}`),
    );
}
