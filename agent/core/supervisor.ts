import type { Logger } from 'pino';
import type { RestartT } from '../../schemas/services.js';
import { backoffDelay } from './backoff.js';
import type { Bus } from './bus.js';
import type { Clock, Timer } from './clock.js';
import { errorCode, errorText } from './errors.js';
import type { ServiceRuntime } from './service.js';

export type ServiceState = 'starting' | 'running' | 'restarting' | 'stopped';

export interface ServiceStatus {
  state: ServiceState;
  restarts: number;
  lastError?: string;
  /** The catalogue code of the last error. */
  code?: string;
  since: number;
}

/**
 * Keeps one service running (DESIGN §2): a failure in start, or one the driver reports later,
 * emits `system/service/<name>/failed {reason, restarts}` and restarts it after an exponential
 * backoff with jitter. The backoff resets once the service has stayed up for `max_delay`.
 */
export class Supervisor {
  private state: ServiceState = 'stopped';
  private restarts = 0;
  private attempt = 0;
  private lastError?: string;
  private code?: string;
  private since: number;
  private timer?: Timer;
  private stableTimer?: Timer;
  runtime?: ServiceRuntime;

  constructor(
    readonly name: string,
    private readonly restart: RestartT,
    private readonly create: () => ServiceRuntime,
    private readonly clock: Clock,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
    /** `trigger_events: false`: a failure is logged, not emitted as `system/service/<name>/failed`. */
    private readonly failEvents = true,
  ) {
    this.since = clock.now();
  }

  status(): ServiceStatus {
    return {
      state: this.state,
      restarts: this.restarts,
      lastError: this.lastError,
      code: this.code,
      since: this.since,
    };
  }

  /** Starts the service; resolves after the first attempt, whether it worked or a restart is scheduled. */
  async start(): Promise<void> {
    await this.tryStart();
  }

  private setState(s: ServiceState): void {
    this.state = s;
    this.since = this.clock.now();
  }

  private async tryStart(): Promise<void> {
    const attempt = ++this.attempt;
    const rt = this.create();
    this.runtime = rt;
    this.setState('starting');
    try {
      await rt.start((reason) => this.failed(attempt, reason));
    } catch (e) {
      await this.failed(attempt, e);
      return;
    }
    if (attempt !== this.attempt || this.state !== 'starting') return;
    this.setState('running');
    this.bus.emit(
      `system/service/${this.name}/started` as const,
      { service: this.name, restarts: this.restarts },
      'supervisor',
    );
    this.stableTimer = this.clock.setTimeout(() => {
      this.restarts = 0;
    }, this.restart.max_delay);
  }

  private async failed(attempt: number, reason: unknown): Promise<void> {
    if (attempt !== this.attempt || this.state === 'stopped' || this.state === 'restarting') return;
    this.setState('restarting');
    this.stableTimer?.cancel();
    this.lastError = errorText(reason);
    this.code = errorCode(reason);
    const restarts = this.restarts;
    const delay = backoffDelay(this.restart, restarts, this.random);
    this.log.warn(
      { service: this.name, restarts, retry_in_ms: delay },
      `service ${this.name} failed: ${this.lastError}`,
    );
    if (this.failEvents)
      this.bus.emit(
        `system/service/${this.name}/failed` as const,
        { service: this.name, reason: this.lastError, code: this.code, restarts, retry_in: delay },
        'supervisor',
      );
    await this.runtime?.stop().catch(() => {});
    this.restarts++;
    // stop() may have been called while the runtime was shutting down.
    if (this.stoppedMeanwhile(attempt)) return;
    this.timer = this.clock.setTimeout(() => void this.tryStart(), delay);
  }

  private stoppedMeanwhile(attempt: number): boolean {
    return attempt !== this.attempt;
  }

  async stop(): Promise<void> {
    const wasUp = this.state === 'running';
    this.attempt++;
    this.setState('stopped');
    this.timer?.cancel();
    this.stableTimer?.cancel();
    await this.runtime
      ?.stop()
      .catch((e) => this.log.warn({ service: this.name }, `stopping: ${errorText(e)}`));
    if (wasUp)
      this.bus.emit(`system/service/${this.name}/stopped` as const, { service: this.name }, 'supervisor');
  }
}
