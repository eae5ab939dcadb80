import type { CloudT } from '../../schemas/cloud.js';
import type { UnitStatusT } from '../../schemas/wire.js';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { errorText } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { compileTemplate } from '../core/templates.js';
import type { Extension } from '../core/types.js';
import { redact } from './broker-url.js';
import { type LinkGate, type LinkState, MqttLink } from './mqtt-link.js';
import type { Outbox } from './outbox.js';
import { OutboxSender } from './sender.js';
import { type Section, StatusAggregator } from './status-aggregator.js';
import { unitPrefix } from './topics.js';

export interface CloudDeps {
  bus: Bus;
  clock: Clock;
  log: Logger;
  outbox: Outbox;
  unit: { id: string };
  /** `status.window`: status changes merged and sent at most once per window. */
  statusWindow: number;
  random?: () => number;
  /** `cloud.mqtt.when`, compiled by the composition root. */
  gate?: LinkGate;
}

/** What `pitcrew status` shows of the link. */
export interface CloudStatus {
  state: LinkState | 'off';
  /** The broker, without credentials. */
  broker?: string;
  /** When the current state began. */
  since?: number;
  connects: number;
  attempts: number;
  sent: number;
  last_error?: string;
}

type Handler = (payload: Buffer) => void;

/**
 * The cloud link (DESIGN §5, §6): the MQTT connection, the sender that drains the outbox through
 * it, and the status aggregator. With no broker URL the link is off: the outbox keeps everything.
 * Incoming topics (`desired`, `config`) reach whoever registered for them with `onMessage`.
 */
export class CloudLink implements Extension {
  readonly name = 'cloud';
  readonly status: StatusAggregator;
  private readonly link?: MqttLink;
  private readonly sender?: OutboxSender;
  private readonly handlers = new Map<string, Handler>();
  /** The broker, without credentials: status and logs may show it. */
  private readonly broker: string;
  private readonly prefix: string;

  constructor(
    config: CloudT,
    private readonly deps: CloudDeps,
  ) {
    const unit = { unit: deps.unit };
    const prefix = unitPrefix(config.topic_prefix, deps.unit);
    this.prefix = prefix;
    const m = config.mqtt;
    this.status = new StatusAggregator(deps.clock, deps.statusWindow, (msg) => this.sendStatus(msg));
    this.broker = m.url && redact(m.url);
    if (!m.url) return;
    this.link = new MqttLink(
      {
        url: m.url,
        clientId: String(compileTemplate(m.client_id)(unit)),
        username: m.username,
        password: m.password,
        ca: m.ca,
        cert: m.cert,
        key: m.key,
        keepalive: m.keepalive,
        reconnect: m.reconnect,
        protocol: m.protocol,
        prefix,
        subscribe: ['desired', 'config'],
      },
      deps.clock,
      {
        connected: () => this.connected(),
        disconnected: (reason) => this.disconnected(reason),
        message: (topic, payload) => this.message(topic, payload),
      },
      deps.random,
      deps.gate,
    );
    const b = config.outbox.batch;
    this.sender = new OutboxSender(deps.outbox, this.link, deps.clock, {
      unit: deps.unit.id,
      maxRecords: b.max_records,
      maxBytes: b.max_bytes,
      maxWait: b.max_wait,
      gzip: config.outbox.compression === 'gzip',
    });
  }

  async start(): Promise<void> {
    await this.link?.start();
  }

  async stop(): Promise<void> {
    this.sender?.stop();
    this.status.disconnected();
    await this.link?.stop();
  }

  /** The full topic of `rel` under the unit's prefix. */
  topic(rel: string): string {
    return `${this.prefix}/${rel}`;
  }

  /** New records are on disk. */
  accepted(): void {
    this.sender?.wake();
  }

  /** Receives the payloads of `<prefix>/<topic>` (`desired`, `config`). */
  onMessage(topic: string, fn: Handler): void {
    this.handlers.set(topic, fn);
  }

  /** Records an item of the unit status (upsert); sent in the next window's delta. */
  /** An item that is gone: sent once more in the delta as it last was, then left out. */
  drop(section: Section, key: string): void {
    this.status.drop(section, key);
  }

  update(section: Section, key: string, fields: Record<string, unknown>): void {
    this.status.update(section, key, fields);
  }

  state(): CloudStatus {
    const l = this.link;
    if (!l) return { state: 'off', connects: 0, attempts: 0, sent: 0 };
    return {
      state: l.state,
      broker: this.broker,
      since: l.since,
      connects: l.connects,
      attempts: l.attempts,
      sent: this.sender?.sent ?? 0,
      last_error: l.lastError ?? this.sender?.lastError,
    };
  }

  private connected(): void {
    this.deps.log.info({ broker: this.broker }, 'cloud link connected');
    this.deps.bus.emit('system/cloud/connected', { broker: this.broker }, 'cloud');
    this.status.connected();
    this.sender?.connected();
  }

  private disconnected(reason: string): void {
    this.deps.log.warn({ reason }, `cloud link lost: ${reason}`);
    this.status.disconnected();
    this.deps.bus.emit('system/cloud/disconnected', { reason }, 'cloud');
  }

  private message(topic: string, payload: Buffer): void {
    const rel = topic.slice(this.prefix.length + 1);
    const fn = this.handlers.get(rel);
    if (!fn) return;
    try {
      fn(payload);
    } catch (e) {
      this.deps.log.error({ topic }, `handling ${topic}: ${errorText(e)}`);
    }
  }

  /** A whole status is retained (a fleet tool joining later reads it, DESIGN §15); a delta is not. */
  private sendStatus(msg: UnitStatusT): void {
    const l = this.link;
    if (!l?.connected) return;
    l.publish(l.topic('status'), JSON.stringify(msg), { qos: 1, retain: !msg.isDeltaInfo }).catch((e) => {
      this.deps.log.warn(`status not sent: ${errorText(e)}`);
    });
  }
}
