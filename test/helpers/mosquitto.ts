/**
 * A real mosquitto broker on 127.0.0.1, one per test (or benchmark), on a free port (scripts/test-deps installs
 * it). Persistence is on, so a restart keeps the sessions and queued messages of clients that asked
 * for it (`clean: false`).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

const BIN = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';

export interface BrokerOptions {
  /** user → password; anonymous clients are refused. */
  users?: Record<string, string>;
  /** Files for a TLS listener that requires client certificates. */
  tls?: { ca: string; cert: string; key: string };
  /** Logs every subscribe and unsubscribe (`subscriptions()` reads them). */
  logSubscriptions?: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function accepting(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class Broker {
  private proc?: ChildProcess;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-broker-'));
  private readonly conf = path.join(this.dir, 'mosquitto.conf');

  private constructor(
    readonly port: number,
    readonly opts: BrokerOptions,
  ) {
    const lines = [
      `listener ${port} 127.0.0.1`,
      'persistence true',
      `persistence_location ${this.dir}/`,
      ...(opts.logSubscriptions
        ? [`log_dest file ${this.dir}/mosquitto.log`, 'log_type subscribe', 'log_type unsubscribe']
        : ['log_dest none']),
      // Run as whoever runs the tests (as root it would switch to `mosquitto`, which cannot write here).
      `user ${userInfo().username}`,
      'max_queued_messages 0',
    ];
    if (opts.users) {
      const file = path.join(this.dir, 'passwd');
      writeFileSync(file, '');
      for (const [u, p] of Object.entries(opts.users)) {
        const r = spawnSync('mosquitto_passwd', ['-b', file, u, p]);
        if (r.status !== 0) throw new Error(`mosquitto_passwd: ${r.stderr}`);
      }
      lines.push('allow_anonymous false', `password_file ${file}`);
    } else lines.push('allow_anonymous true');
    if (opts.tls)
      lines.push(
        `cafile ${opts.tls.ca}`,
        `certfile ${opts.tls.cert}`,
        `keyfile ${opts.tls.key}`,
        'require_certificate true',
      );
    writeFileSync(this.conf, `${lines.join('\n')}\n`);
  }

  static async start(opts: BrokerOptions = {}): Promise<Broker> {
    const b = new Broker(await freePort(), opts);
    await b.resume();
    return b;
  }

  /** The subscribes and unsubscribes logged so far (with `logSubscriptions`), one per line. */
  subscriptions(): string {
    return readFileSync(path.join(this.dir, 'mosquitto.log'), 'utf8');
  }

  /** The running broker's process id (for its CPU time). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get url(): string {
    return `${this.opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port, with what it persisted. */
  async resume(): Promise<void> {
    this.proc = spawn(BIN, ['-c', this.conf], { stdio: 'ignore' });
    await accepting(this.port);
  }

  /** Stops it (SIGTERM: it saves its persistence file first). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    // A TLS listener with a client mid-handshake can hold mosquitto up: it gets 2 s, then SIGKILL.
    const kill = setTimeout(() => p.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(kill);
    this.proc = undefined;
  }

  /** Stops it for good and removes its files. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A client of the test's own, connected. */
  async client(opts: IClientOptions = {}): Promise<MqttClient> {
    return mqtt.connectAsync(this.url, { reconnectPeriod: 200, ...opts });
  }
}
