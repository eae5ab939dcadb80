import { access } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { SerialPort } from 'serialport';
import { backoffDelay } from '../../core/backoff.js';
import type { Clock, Timer } from '../../core/clock.js';
import { errors, errorText } from '../errors.js';
import { openSerialPort } from './open-port.js';

export interface SerialLinkOptions {
  path: string;
  baudRate: number;
  /** Delay before reopening a port that failed or vanished: doubling from min to max, ±25 % jitter. */
  reconnect: { min: number; max: number };
  clock: Clock;
  log: Logger;
  random?: () => number;
  /** Readies the device on the other end (an adapter's init) after each open; a throw closes and retries. */
  ready(): Promise<void>;
  data(chunk: Buffer): void;
  /** The port is open and ready. */
  up(): void;
  /** The port closed or vanished (a pulled cable); `wasUp`: it had been ready. */
  closed(why: string, wasUp: boolean): void;
}

/** How often an open port's device file is checked: a pulled USB adapter does not always close the port. */
const PRESENCE_CHECK_MS = 1000;

export type SerialState = 'opening' | 'up' | 'waiting' | 'stopped';

/**
 * A serial port that stays open: opened at start, reopened with backoff whenever it fails to open,
 * fails its device's init, or vanishes (a USB adapter pulled out), until stopped. Never throws at
 * start: a port that is not there yet is waited for, and said so in the log.
 */
export class SerialLink {
  private port?: SerialPort;
  private timer?: Timer;
  private presence?: Timer;
  private failures = 0;
  state: SerialState = 'opening';
  lastError?: string;

  constructor(private readonly opts: SerialLinkOptions) {}

  async start(): Promise<void> {
    await this.attempt();
  }

  private async attempt(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'opening';
    let port: SerialPort | undefined;
    try {
      port = await openSerialPort(this.opts.path, this.opts.baudRate);
      if (this.state !== 'opening') return void port.close();
      this.port = port;
      const current = port;
      port.on('data', (c: Buffer) => this.opts.data(c));
      port.on('close', (e: Error | null) => this.lost(current, e ? errorText(e) : 'closed'));
      port.on('error', (e: Error) => this.lost(current, errorText(e)));
      await this.opts.ready();
      if (this.port !== current) throw new Error(this.lastError ?? 'closed during init');
      this.failures = 0;
      this.lastError = undefined;
      this.state = 'up';
      this.checkPresence(current);
      this.opts.up();
    } catch (e) {
      if (this.port === port) this.release(errorText(e), false);
      this.retry(errorText(e));
    }
  }

  /** While `port` is the open one, its device file must still be there. */
  private checkPresence(port: SerialPort): void {
    this.presence = this.opts.clock.setTimeout(() => {
      access(this.opts.path).then(
        () => this.port === port && this.checkPresence(port),
        () => this.lost(port, `${this.opts.path} is gone`),
      );
    }, PRESENCE_CHECK_MS);
  }

  private lost(port: SerialPort, why: string): void {
    if (port !== this.port) return;
    const wasUp = this.state === 'up';
    this.release(why, wasUp);
    if (wasUp) this.retry(why);
  }

  /** Forgets the current port (closing it if still open) and tells the device's driver. */
  private release(why: string, wasUp: boolean): void {
    const port = this.port;
    this.port = undefined;
    this.presence?.cancel();
    if (port?.isOpen) port.close();
    this.opts.closed(why, wasUp);
  }

  private retry(why: string): void {
    if (this.state === 'stopped') return;
    if (this.lastError !== why) this.opts.log.warn(`${this.opts.path}: ${why}; retrying`);
    this.lastError = why;
    this.state = 'waiting';
    const { min, max } = this.opts.reconnect;
    const delay = backoffDelay(
      { delay: min, max_delay: max, factor: 2, jitter: 0.25 },
      this.failures++,
      this.opts.random,
    );
    this.timer = this.opts.clock.setTimeout(() => void this.attempt(), delay);
  }

  write(data: string | Buffer): void {
    if (!this.port) throw errors.SERIAL_CLOSED(this.opts.path, this.lastError ?? this.state);
    this.port.write(data);
  }

  /** Changes the baud rate of the open port (probing an adapter's rate). */
  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (!port) throw errors.SERIAL_CLOSED(this.opts.path, this.lastError ?? this.state);
    await new Promise<void>((resolve, reject) =>
      port.update({ baudRate }, (e) => (e ? reject(e) : resolve())),
    );
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    this.timer?.cancel();
    this.presence?.cancel();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
