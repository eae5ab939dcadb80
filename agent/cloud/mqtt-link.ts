import { readFileSync } from 'node:fs';
import type { IClientOptions, MqttClient } from 'mqtt';
import { backoffDelay } from '../core/backoff.js';
import { type Clock, realClock, type Timer } from '../core/clock.js';
import { within } from '../core/deadline.js';
import { errors, errorText } from '../core/errors.js';
import { brokerAddress } from './broker-url.js';

export interface LinkSettings {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** Files: CA bundle, client certificate and key (mqtts). */
  ca?: string;
  cert?: string;
  key?: string;
  keepalive: number;
  reconnect: { min: number; max: number };
  protocol: 5 | '3.1.1';
  /** Topic prefix: `online`, and the topics subscribed, live under it. */
  prefix: string;
  /** Topics under the prefix subscribed on every connect (`desired`, `config`). */
  subscribe: string[];
}

export interface LinkEvents {
  connected(): void;
  disconnected(reason: string): void;
  message(topic: string, payload: Buffer): void;
}

/** How long a stop waits for the broker at each step of its goodbye. */
const GOODBYE_MS = 400;

export type LinkState = 'connecting' | 'connected' | 'waiting' | 'held' | 'stopped';

/** `cloud.mqtt.when`: whether the link may try now, and a way to hear that it may have changed. */
export interface LinkGate {
  open(): boolean;
  watch(fn: () => void): () => void;
}

/** Largest message the link takes from the broker (desired status, bundles): bigger ones are refused by it. */
const MAX_INCOMING = 4 * 1024 * 1024;

/** What a refused CONNACK means, in words an operator can act on. */
const REFUSED: Record<number, string> = {
  4: 'bad user name or password',
  5: 'not authorized',
  134: 'bad user name or password',
  135: 'not authorized',
  138: 'client id banned',
};

/**
 * The MQTT connection (DESIGN §6): MQTT 5 (or 3.1.1), TLS with client certificates, a last will
 * setting `online` to "false" and a retained "true" on each connect. Reconnects are its own, not
 * mqtt.js's: a fresh client per attempt after a doubling delay with jitter between `reconnect.min`
 * and `max` on the agent's clock, so a broker that refuses the credentials is retried slowly, not
 * in a loop. Subscriptions are made again on every connect.
 */
export class MqttLink {
  private client?: MqttClient;
  private timer?: Timer;
  private failures = 0;
  private tls: Pick<IClientOptions, 'ca' | 'cert' | 'key'> = {};
  state: LinkState = 'stopped';
  lastError?: string;
  connects = 0;
  /** Connection attempts made, successful or not. */
  attempts = 0;
  /** When the current state began. */
  since = 0;

  constructor(
    private readonly settings: LinkSettings,
    private readonly clock: Clock,
    private readonly on: LinkEvents,
    private readonly random: () => number = Math.random,
    private readonly gate?: LinkGate,
  ) {}

  private unwatch?: () => void;

  /** mqtt.js, loaded when a link starts: a unit without a cloud section never evaluates it (~2 MB of heap). */
  private mqtt?: typeof import('mqtt').default;

  /** Reads the TLS files (a missing one fails the start, naming its key) and connects. */
  async start(): Promise<void> {
    for (const k of ['ca', 'cert', 'key'] as const) {
      const file = this.settings[k];
      if (!file) continue;
      try {
        this.tls[k] = readFileSync(file);
      } catch (e) {
        throw errors
          .START_FAILED('cloud link', `cannot read ${k} ${file}: ${errorText(e)}`)
          .at(`cloud.mqtt.${k}`);
      }
    }
    this.mqtt ??= (await import('mqtt')).default;
    this.connect();
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.unwatch?.();
    this.set('stopped');
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    // A clean disconnect: the broker discards the will, as `online` is set to "false" here. Each
    // step gets a short, fixed chance on the wall clock: a broker gone silent (a cellular link
    // dropped without a FIN) never answers, and mqtt.js's end may then never call back.
    const chance = <T>(p: Promise<T>) =>
      within(realClock, GOODBYE_MS, p, () => new Error('no answer')).then(
        () => true,
        () => false,
      );
    if (c.connected) await chance(c.publishAsync(this.topic('online'), 'false', { qos: 1, retain: true }));
    if (!(await chance(c.endAsync(true)))) c.stream?.destroy();
  }

  topic(rel: string): string {
    return `${this.settings.prefix}/${rel}`;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Publishes; resolves on PUBACK at QoS 1 and 2. Fails at once when the link is down. */
  async publish(
    topic: string,
    payload: string | Buffer,
    opts: { qos: 0 | 1 | 2; retain?: boolean; contentType?: string },
  ): Promise<void> {
    const c = this.client;
    if (!c || this.state !== 'connected') throw errors.CLOUD_OFFLINE();
    await c.publishAsync(topic, payload, {
      qos: opts.qos,
      retain: opts.retain ?? false,
      ...(opts.contentType && this.settings.protocol === 5
        ? { properties: { contentType: opts.contentType } }
        : {}),
    });
  }

  private set(state: LinkState): void {
    this.state = state;
    this.since = this.clock.now();
  }

  /** `when` is false: no attempt, no backoff; the first change that makes it true connects at once. */
  private held(): boolean {
    if (!this.gate || this.gate.open()) return false;
    this.set('held');
    this.unwatch ??= this.gate.watch(() => {
      if (this.state !== 'held' || !this.gate!.open()) return;
      this.unwatch?.();
      this.unwatch = undefined;
      this.failures = 0;
      this.connect();
    });
    return true;
  }

  private connect(): void {
    if (this.held()) return;
    this.set('connecting');
    this.attempts++;
    const client = this.mqtt!.connect({
      ...brokerAddress(this.settings.url, this.settings),
      clientId: this.settings.clientId,
      keepalive: Math.max(1, Math.round(this.settings.keepalive / 1000)),
      protocolVersion: this.settings.protocol === 5 ? 5 : 4,
      reconnectPeriod: 0,
      connectTimeout: 15_000,
      clean: true,
      will: { topic: this.topic('online'), payload: Buffer.from('false'), qos: 1, retain: true },
      ...(this.settings.protocol === 5 ? { properties: { maximumPacketSize: MAX_INCOMING } } : {}),
      ...this.tls,
    });
    this.client = client;
    let up = false;
    client.on('connect', () => {
      if (this.client !== client) return;
      this.failures = 0;
      this.connects++;
      this.lastError = undefined;
      // Connected once its subscriptions are in place: what the cloud sends the unit after
      // hearing so (a desired status, a config) is not missed.
      void this.announce(client, () => {
        up = true;
        this.set('connected');
        this.on.connected();
      });
    });
    client.on('message', (topic, payload) => {
      if (this.client === client) this.on.message(topic, payload);
    });
    client.on('error', (e: Error & { code?: number | string }) => {
      if (this.client !== client) return;
      const refused = typeof e.code === 'number' ? REFUSED[e.code] : undefined;
      this.lastError = refused ? `broker refused the connection: ${refused}` : errorText(e);
    });
    client.on('close', () => {
      if (this.client !== client) return;
      client.removeAllListeners('connect');
      client.end(true);
      this.client = undefined;
      if (up) this.on.disconnected(this.lastError ?? 'connection closed');
      this.retry();
    });
  }

  /** Subscribes, then calls `subscribed` (unless the connection was replaced meanwhile) and says the unit is online. */
  private async announce(client: MqttClient, subscribed: () => void): Promise<void> {
    try {
      if (this.settings.subscribe.length)
        await client.subscribeAsync(
          this.settings.subscribe.map((t) => this.topic(t)),
          { qos: 1 },
        );
    } catch (e) {
      this.lastError = `subscribing: ${errorText(e)}`;
    }
    if (this.client !== client) return;
    subscribed();
    try {
      await client.publishAsync(this.topic('online'), 'true', { qos: 1, retain: true });
    } catch (e) {
      this.lastError = `saying it is online: ${errorText(e)}`;
    }
  }

  private retry(): void {
    if (this.state === 'stopped') return;
    const { min, max } = this.settings.reconnect;
    const delay = Math.min(
      max,
      Math.max(
        min,
        backoffDelay({ delay: min, max_delay: max, factor: 2, jitter: 0.25 }, this.failures++, this.random),
      ),
    );
    if (this.held()) return;
    this.set('waiting');
    this.timer = this.clock.setTimeout(() => this.connect(), delay);
  }
}
