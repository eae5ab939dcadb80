import { CloudLink } from '../cloud/cloud-link.js';
import type { LinkGate } from '../cloud/mqtt-link.js';
import { Outbox, outboxFile } from '../cloud/outbox.js';
import type { ConfigT } from '../config/schema.js';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { PitcrewError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { openOrReplace } from '../core/storage.js';
import { errors } from '../errors.js';
import type { AgentStatus } from '../parts/context.js';
import { outboxStatus, reportServices } from './status.js';

export interface UplinkDeps {
  bus: Bus;
  clock: Clock;
  log: Logger;
  dataDir: string;
  random?: () => number;
  onWriteError(file: string, e: unknown): void;
  /** A damaged outbox moved aside at the start, a new one begun. */
  damaged(file: string, e: PitcrewError): void;
  onDropped(n: number): void;
  gate?: LinkGate;
}

/**
 * The unit's way out: the durable outbox, and the cloud link that drains it when the config has a
 * `cloud` section. Without one, records still queue (DESIGN §6) and what needs the link says so.
 */
export class Uplink {
  readonly outbox: Outbox;
  readonly link?: CloudLink;

  constructor(config: ConfigT, deps: UplinkDeps) {
    const box = config.cloud?.outbox;
    this.outbox = openOrReplace(
      outboxFile(deps.dataDir),
      () =>
        new Outbox(
          deps.dataDir,
          { maxRecords: box?.max_records ?? 1_000_000, maxBytes: box?.max_bytes ?? 256 * 1024 ** 2 },
          {
            onWriteError: deps.onWriteError,
            onDropped: deps.onDropped,
            onAccepted: () => this.link?.accepted(),
          },
        ),
      deps.damaged,
    );
    if (config.cloud)
      this.link = new CloudLink(config.cloud, {
        bus: deps.bus,
        clock: deps.clock,
        log: deps.log,
        outbox: this.outbox,
        unit: config.unit,
        statusWindow: config.status.window,
        random: deps.random,
        ...(deps.gate ? { gate: deps.gate } : {}),
      });
  }

  /** Queues a message for `<prefix>/<topic>`; resolves once it is on disk. */
  async publish(topic: string, payload: string, qos: 0 | 1 | 2, retain: boolean, now: number): Promise<void> {
    if (!this.link) throw errors.ACTION_UNAVAILABLE('publish', 'a cloud section in the config');
    await this.outbox.pushMessage('reactor', this.link.topic(topic), payload, qos, retain, now);
  }

  /** An item of the unit status (DESIGN §5); a no-op without a link. */
  update(section: Parameters<CloudLink['update']>[0], key: string, fields: Record<string, unknown>): void {
    this.link?.update(section, key, fields);
  }

  drop(section: Parameters<CloudLink['drop']>[0], key: string): void {
    this.link?.drop(section, key);
  }

  services(status: AgentStatus['services']): void {
    if (this.link) reportServices(this.link, status);
  }

  close(): void {
    this.outbox.close();
  }
}

/** The outbox and link in the agent's status; empty and off before the agent starts. */
export function uplinkStatus(uplink: Uplink | undefined, now: number): Pick<AgentStatus, 'outbox' | 'cloud'> {
  return {
    outbox: outboxStatus(uplink?.outbox, now),
    cloud: uplink?.link?.state() ?? { state: 'off', connects: 0, attempts: 0, sent: 0 },
  };
}
