import type { WorkerT } from '../../schemas/services.js';
import type { Bus } from './bus.js';
import type { Clock, Timer } from './clock.js';
import { CronSchedule } from './cron.js';
import type { ErrorReports } from './error-reports.js';
import { errorCode, errors, errorText } from './errors.js';
import { type Pipeline, runPipeline } from './pipeline.js';

/** What an operator did to a worker, kept across restarts of its service. */
export type KeptState = 'started' | 'paused' | 'killed';

export type WorkerState = 'stopped' | 'running' | 'paused' | 'completed' | 'killed' | 'failed';

export interface WorkerStatus {
  name: string;
  state: WorkerState;
  iterations: number;
  lastRun?: number;
  nextRun?: number;
  /** Per message: distinct error texts and how often each happened. */
  errors: Record<string, number>[];
}

/**
 * Runs a worker's messages on its interval or cron (DESIGN §3.1): `loop`, `delay`, `auto_start`,
 * `on_error`, `transactional`, `kill_upon_success`. An error in one message is counted and the
 * next message still runs. Iterations never overlap.
 */
export class Worker {
  private state: WorkerState = 'stopped';
  private iterations = 0;
  private timer?: Timer;
  private running?: Promise<void>;
  private lastRun?: number;
  private nextRun?: number;
  private readonly errors: Map<string, number>[];
  /** Abandons the message under way (kill must not wait for a step that never settles). */
  private abandon?: () => void;
  private readonly cron?: CronSchedule;

  constructor(
    readonly service: string,
    private readonly def: WorkerT,
    private readonly pipelines: Pipeline[],
    private readonly clock: Clock,
    private readonly bus: Bus,
    private readonly reports: ErrorReports,
    timeZone?: string,
  ) {
    this.errors = pipelines.map(() => new Map());
    if (def.cron) this.cron = new CronSchedule(def.cron, timeZone);
  }

  get name(): string {
    return this.def.name;
  }

  status(): WorkerStatus {
    return {
      name: this.def.name,
      state: this.state,
      iterations: this.iterations,
      lastRun: this.lastRun,
      nextRun: this.nextRun,
      errors: this.errors.map((m) => Object.fromEntries(m)),
    };
  }

  /** Starts (or restarts, from the first iteration) a worker that is not running. */
  start(): void {
    if (this.state === 'running' || this.state === 'paused') return;
    this.iterations = 0;
    this.state = 'running';
    this.schedule(this.untilFirstRun());
  }

  /** Takes the state an operator left the worker in before its service restarted. */
  hold(state: 'paused' | 'killed'): void {
    this.cancel();
    this.state = state;
  }

  pause(): void {
    if (this.state !== 'running') return;
    this.state = 'paused';
    this.cancel();
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'running';
    this.schedule(this.untilFirstRun());
  }

  /** Stops for good (until `start`); the message under way is abandoned, its late results dropped. */
  async kill(): Promise<void> {
    if (this.state === 'running' || this.state === 'paused') this.state = 'killed';
    this.cancel();
    this.abandon?.();
    await this.running;
  }

  private killed(): boolean {
    return this.state === 'killed';
  }

  private cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.nextRun = undefined;
  }

  /** After (re)starting: `delay`, then for a cron worker the next matching time after it. */
  private untilFirstRun(): number {
    const now = this.clock.now();
    return this.cron ? this.cron.next(now + this.def.delay) - now : this.def.delay;
  }

  private schedule(ms: number): void {
    this.cancel();
    this.nextRun = this.clock.now() + ms;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.nextRun = undefined; // set again if another iteration follows
      this.running = this.iterate().finally(() => {
        this.running = undefined;
      });
    }, ms);
  }

  private async iterate(): Promise<void> {
    if (this.state !== 'running') return;
    const started = this.clock.now();
    this.lastRun = started;
    this.iterations++;
    let failed: { reason: string; code: string } | undefined;
    let produced = false;
    for (const [i, p] of this.pipelines.entries()) {
      if (this.killed()) return;
      try {
        const abandoned = new Promise<never>((_, reject) => {
          this.abandon = () => reject(errors.WORKER_KILLED(this.service, this.def.name));
        });
        abandoned.catch(() => {});
        produced = (await runPipeline(p, this.clock, this.bus, abandoned)).length > 0 || produced;
      } catch (e) {
        const text = errorText(e);
        const counts = this.errors[i]!;
        counts.set(text, (counts.get(text) ?? 0) + 1);
        const where = `worker ${this.service}/${this.def.name} message ${i + 1} (${p.handlerName})`;
        this.reports.report(`${this.service}\0${this.def.name}\0${i}\0${text}`, `${where}: ${text}`, {
          service: this.service,
          worker: this.def.name,
          message: i + 1,
          code: errorCode(e),
        });
        failed ??= { reason: `message ${i + 1} (${p.handlerName}): ${text}`, code: errorCode(e) };
        if (this.def.transactional) break;
      }
    }
    const tag = `system/worker/${this.service}/${this.def.name}` as const;
    if (failed !== undefined && this.def.on_error === 'stop') {
      this.state = 'failed';
      this.bus.emit(
        `${tag}/failed` as const,
        { service: this.service, worker: this.def.name, ...failed },
        this.service,
      );
      return;
    }
    const done =
      (this.def.loop >= 0 && this.iterations >= this.def.loop) ||
      (this.def.kill_upon_success && !failed && produced);
    if (done) {
      this.state = 'completed';
      this.nextRun = undefined;
      this.bus.emit(
        `${tag}/completed` as const,
        { service: this.service, worker: this.def.name, iterations: this.iterations },
        this.service,
      );
      return;
    }
    if (this.state !== 'running') return;
    const now = this.clock.now();
    this.schedule(
      this.cron ? this.cron.next(now) - now : Math.max(0, started + (this.def.interval ?? 0) - now),
    );
  }
}
