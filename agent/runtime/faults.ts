import type { Bus } from '../core/bus.js';
import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { OncePer } from '../core/once-per.js';
import { errors, errorText } from '../errors.js';

/**
 * The agent's own fault reports, each in the log and on the bus, none flooding either: stray
 * errors no service owns, a stalled event loop, a service flooding the bus (once a minute per
 * service), and outbox drops (at once, then at most every 10 s with the count since).
 */
export class AgentFaults {
  private readonly floodReports: OncePer;
  private dropsUnreported = 0;
  private dropTimer?: Timer;

  constructor(
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Records the outbox has dropped in all. */
    private readonly droppedTotal: () => number,
  ) {
    this.floodReports = new OncePer(clock, 60_000);
  }

  /** An error no service owns (thrown from a timer, a promise left rejected): reported, never fatal. */
  stray(e: Error): void {
    this.log.error({ err: e }, `stray error: ${errorText(e)}`);
    this.bus.emit('system/agent/error', { error: errorText(e), code: errors.STRAY_ERROR.code }, 'agent');
  }

  stalled(ms: number): void {
    this.log.warn({ ms }, errors.STALLED(ms).message);
    this.bus.emit('system/agent/stalled', { ms }, 'agent');
  }

  flooded(service: string, dropped: number): void {
    if (!this.floodReports.due(service)) return;
    const err = errors.FLOOD(`service ${service}`, dropped);
    this.log.warn({ service, dropped }, err.message);
    this.bus.emit('system/agent/error', { service, error: err.message, code: err.code, dropped }, 'agent');
  }

  outboxDropped(n: number): void {
    this.dropsUnreported += n;
    if (this.dropTimer) return;
    const count = this.dropsUnreported;
    this.dropsUnreported = 0;
    const total = this.droppedTotal();
    const err = errors.OUTBOX_DROPPED(count, total);
    this.log.warn({ dropped: count, total }, err.message);
    this.bus.emit('system/outbox/dropped', { dropped: count, total, code: err.code }, 'outbox');
    this.dropTimer = this.clock.setTimeout(() => {
      this.dropTimer = undefined;
      if (this.dropsUnreported > 0) this.outboxDropped(0);
    }, 10_000);
  }

  stop(): void {
    this.dropTimer?.cancel();
    this.dropTimer = undefined;
  }
}
