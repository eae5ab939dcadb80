import type { Logger } from 'pino';
import { errorText } from '../core/errors.js';
import { requireOptional } from '../core/optional-dependency.js';
import type { Part, PartContext } from '../parts/context.js';

interface DgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error) => void): void;
  on(event: 'error', fn: (e: Error) => void): void;
  close(): void;
}

/** The datagram addon, or why it is not there. */
const unixDgram = () => requireOptional<{ createSocket(type: 'unix_dgram'): DgramSocket }>('unix-dgram');

/**
 * The agent's side of systemd's notify protocol (`Type=notify`, `WatchdogSec`): `READY=1` once
 * started, `WATCHDOG=1` from the event loop every half watchdog period (a frozen loop sends
 * nothing, and systemd restarts the unit), `STATUS=` with a one-line summary, `STOPPING=1` on
 * shutdown. Node has no unix datagram sockets, so the datagrams go through the small `unix-dgram`
 * addon (an optional dependency); without `NOTIFY_SOCKET` this does nothing.
 */
export class SystemdNotify implements Part {
  readonly name = 'systemd';
  private socket?: DgramSocket;
  private timer?: NodeJS.Timeout;

  private readonly env: NodeJS.ProcessEnv;
  private readonly log: Logger;

  constructor(private readonly cx: PartContext<unknown>) {
    this.env = cx.env;
    this.log = cx.log;
  }

  /** The socket's address; an abstract one (`@…`) starts with a NUL byte. */
  private get path(): string | undefined {
    const p = this.env.NOTIFY_SOCKET;
    return p?.startsWith('@') ? `\0${p.slice(1)}` : p;
  }

  private send(message: string): void {
    const path = this.path;
    if (!this.socket || !path) return;
    const buf = Buffer.from(message);
    this.socket.send(buf, 0, buf.length, path, (e) => {
      if (e) this.log.warn(`systemd notify: ${errorText(e)}`);
    });
  }

  /** `2/2 services running, cloud connected, 0 queued` */
  summary(): string {
    const s = this.cx.status();
    const services = Object.values(s.services);
    const up = services.filter((x) => x.state === 'running').length;
    return `${up}/${services.length} services running, cloud ${s.cloud.state}, ${s.outbox.queued} queued`;
  }

  async start(): Promise<void> {
    if (!this.path) return;
    const addon = unixDgram();
    if (typeof addon === 'string') {
      this.log.warn(`NOTIFY_SOCKET is set but systemd notify is unavailable: ${addon}; use Type=simple`);
      return;
    }
    this.socket = addon.createSocket('unix_dgram');
    this.socket.on('error', (e) => this.log.warn(`systemd notify: ${errorText(e)}`));
    this.send(`READY=1\nMAINPID=${process.pid}\nSTATUS=${this.summary()}`);
    const usec = Number(this.env.WATCHDOG_USEC);
    const forUs = !this.env.WATCHDOG_PID || Number(this.env.WATCHDOG_PID) === process.pid;
    const every = usec > 0 && forUs ? usec / 2000 : 30_000;
    this.timer = setInterval(
      () => this.send(`${usec > 0 && forUs ? 'WATCHDOG=1\n' : ''}STATUS=${this.summary()}`),
      every,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.send('STOPPING=1\nSTATUS=stopping');
    // Let the datagram go before the process exits.
    await new Promise((r) => setImmediate(r));
    this.socket?.close();
    this.socket = undefined;
  }
}
