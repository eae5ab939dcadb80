import * as z from 'zod';
import { Duration } from '../../../schemas/common.js';
import { ageOf } from '../../core/clock.js';
import type { DriverContext, Result } from '../../core/types.js';
import { errors } from '../errors.js';
import { SerialLink } from '../serial/serial-link.js';
import { defineDriver } from '../types.js';
import { dtcCodes } from './dtc.js';
import { type EcuMessage, isCan, parseFrames, replyLines } from './elm-reply.js';
import { ElmSession } from './elm-session.js';
import { findPid, OBD_HANDLERS, type PidDef, requestFor, supportedIn } from './pids.js';

export const Elm327Settings = z.strictObject({
  port: z.string().min(1),
  baudrate: z.union([z.literal('auto'), z.number().int().positive()]).default('auto'),
  protocol: z.union([z.literal('auto'), z.number().int().min(1).max(12)]).default('auto'),
  timeout: Duration.default(2000),
  header: z
    .string()
    .regex(/^[0-9A-Fa-f]{3,8}$/)
    .optional(),
  reconnect: z
    .strictObject({ min: Duration.default(1000), max: Duration.default(60_000) })
    .default({ min: 1000, max: 60_000 }),
});
type Elm327SettingsT = z.output<typeof Elm327Settings>;

/** Rates `baudrate: auto` tries, most common first, then the STN chips' fast rates. */
export const PROBE_RATES = [38400, 9600, 115200, 230400, 57600, 19200, 500000, 1000000, 2000000];
const PROBE_TIMEOUT = 300;
/** A reset and the first protocol search take longer than a request. */
const RESET_TIMEOUT = 3000;
const SEARCH_TIMEOUT = 10_000;
const REDISCOVER_MS = 30_000;

const DTC_SERVICE = { stored: 0x03, pending: 0x07, permanent: 0x0a } as const;

/** What the adapter said about itself and the car at init. */
interface Adapter {
  baudrate: number;
  adapter: string;
  firmware?: string;
  /** ATDPN's protocol number; unknown while no ECU answered. */
  protocol?: number;
  /** Mode 01 PIDs some ECU supports; unknown until an ECU answered 0100. */
  supported?: Set<number>;
  ecus: string[];
}

/** OBD-II through an ELM327 or STN11xx adapter on a serial port (DESIGN §3.3). */
export const elm327 = defineDriver({
  name: 'elm327',
  settings: Elm327Settings,
  handlers: OBD_HANDLERS,
  create: (settings, ctx) => new Elm327(settings, ctx).instance(),
});

class Elm327 {
  private readonly session: ElmSession;
  private readonly link: SerialLink;
  private info?: Adapter;
  private discoveredAt = 0;
  /** Requests that came before the adapter was set up. */
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly settings: Elm327SettingsT,
    private readonly ctx: DriverContext,
  ) {
    this.link = new SerialLink({
      path: settings.port,
      baudRate: settings.baudrate === 'auto' ? PROBE_RATES[0]! : settings.baudrate,
      reconnect: settings.reconnect,
      clock: ctx.clock,
      log: ctx.log,
      ready: () => this.init(),
      data: (chunk) => this.session.feed(chunk),
      up: () => {
        const i = this.info!;
        ctx.bus.emit(
          'vehicle/obd/connected',
          {
            service: ctx.service,
            port: settings.port,
            baudrate: i.baudrate,
            adapter: i.adapter,
            firmware: i.firmware,
            protocol: i.protocol ?? null,
            ecus: i.ecus,
          },
          ctx.service,
        );
      },
      closed: (why, wasUp) => {
        this.info = undefined;
        this.session.reset(errors.SERIAL_CLOSED(settings.port, why));
        if (wasUp)
          ctx.bus.emit(
            'vehicle/obd/disconnected',
            { service: ctx.service, port: settings.port, reason: why },
            ctx.service,
          );
      },
    });
    this.session = new ElmSession((data) => this.link.write(data), ctx.clock);
  }

  instance() {
    return {
      handlers: {
        query: this.afterSetup((args) => this.query(args.pid)),
        dtc: this.afterSetup((args) => this.dtc(args.mode)),
        clear_dtc: this.afterSetup(() => this.clearDtc()),
        vin: this.afterSetup(() => this.vin()),
        voltage: this.afterSetup(() => this.voltage()),
        raw: this.afterSetup((args) => this.raw(args.command)),
      },
      start: () => this.link.start(),
      stop: () => this.link.stop(),
      status: () => {
        const i = this.info;
        return {
          port: this.settings.port,
          state: this.link.state,
          ...(this.link.lastError ? { last_error: this.link.lastError } : {}),
          ...(i
            ? {
                baudrate: i.baudrate,
                adapter: i.adapter,
                firmware: i.firmware,
                protocol: i.protocol,
                ecus: i.ecus,
              }
            : {}),
          ...(i?.supported ? { supported_pids: i.supported.size } : {}),
        };
      },
    };
  }

  /**
   * A handler that waits while the port is open and the adapter being set up, at most the driver's
   * timeout: a request written between the probes or before ATZ would be garbage to the adapter,
   * and its answer lost. With the port closed it fails at once, as the session would.
   */
  private afterSetup(
    handler: (args: Record<string, unknown>) => Promise<Result>,
  ): (args: Record<string, unknown>) => Promise<Result> {
    return async (args) => {
      if (!this.info && this.link.state === 'opening')
        await new Promise<void>((resolve, reject) => {
          const timer = this.ctx.clock.setTimeout(() => {
            this.waiting.delete(go);
            reject(errors.OBD_NOT_READY(this.settings.port, this.link.lastError ?? this.link.state));
          }, this.settings.timeout);
          const go = () => {
            timer.cancel();
            resolve();
          };
          this.waiting.add(go);
        });
      return handler(args);
    };
  }

  private result(type: string, value: unknown, unit?: string, extra?: Record<string, unknown>): Result {
    return { type, value, ...(unit ? { unit } : {}), ts: this.ctx.clock.now(), ...extra };
  }

  /** Sends a command and returns the answer's lines (status lines throw). */
  private async lines(command: string, timeout = this.settings.timeout): Promise<string[]> {
    return replyLines(await this.session.send(command, timeout), command);
  }

  private async messages(command: string, timeout?: number): Promise<EcuMessage[]> {
    return parseFrames(
      await this.lines(command, timeout),
      { headers: true, protocol: this.info?.protocol },
      command,
    );
  }

  /** Finds the adapter's baud rate, resets it and sets it up; learns the protocol and the supported PIDs. */
  private async init(): Promise<void> {
    const baudrate = this.settings.baudrate === 'auto' ? await this.probe() : this.settings.baudrate;
    const banner = await this.lines('ATZ', Math.max(this.settings.timeout, RESET_TIMEOUT));
    for (const c of ['ATE0', 'ATL0', 'ATS0', 'ATH1', 'ATAT1']) await this.lines(c);
    if (this.settings.header) await this.lines(`ATSH${this.settings.header}`);
    await this.lines(
      this.settings.protocol === 'auto'
        ? 'ATSP0'
        : `ATSP${this.settings.protocol.toString(16).toUpperCase()}`,
    );
    const adapter = (await this.lines('ATI'))[0] ?? banner.at(-1) ?? 'ELM327';
    const firmware = await this.lines('STI').then(
      (l) => l[0],
      () => undefined, // a plain ELM327 answers '?'
    );
    this.info = { baudrate, adapter, firmware, ecus: [] };
    for (const go of this.waiting) go();
    this.waiting.clear();
    await this.discover();
  }

  /**
   * At each rate, ATI until an adapter names itself. Not a lone CR, which repeats the adapter's last
   * command (a `04` would clear the trouble codes again), nor DEL, which some adapters never answer:
   * a first ATI may land after a half-received line and get `?`, so it gets one more try.
   */
  private async probe(): Promise<number> {
    for (const rate of PROBE_RATES) {
      await this.link.setBaudRate(rate);
      for (let tries = 0; tries < 2; tries++) {
        const answer = await this.session.send('ATI', PROBE_TIMEOUT).catch(() => undefined);
        if (answer === undefined) break; // silent at this rate
        if (/ELM|STN|OBD/i.test(answer)) return rate;
      }
    }
    throw errors.DRIVER_ERROR(
      `no ELM327 answered ATI on ${this.settings.port} at ${PROBE_RATES.join(', ')} baud`,
    );
  }

  /** The first request searches the protocol; then ATDPN names it, and the bitmaps say what is supported. */
  private async discover(): Promise<void> {
    const info = this.info!;
    this.discoveredAt = this.ctx.clock.now();
    let first: string[];
    try {
      first = await this.lines('0100', Math.max(this.settings.timeout, SEARCH_TIMEOUT));
    } catch (e) {
      // Ignition off: the adapter is here, the car is not answering yet; requests will search again.
      this.ctx.log.warn(
        `${this.settings.port}: no ECU answered 0100 (${(e as Error).message}); supported PIDs unknown`,
      );
      return;
    }
    const dpn = (await this.lines('ATDPN'))[0] ?? '';
    const protocol = Number.parseInt(dpn.replace(/^A/, ''), 16);
    info.protocol = Number.isNaN(protocol) ? undefined : protocol;
    const supported = new Set<number>([0]);
    const ecus = new Set<string>();
    let page = parseFrames(first, { headers: true, protocol: info.protocol }, '0100');
    for (let base = 0; ; base += 0x20) {
      for (const m of page)
        if (m.data[0] === 0x41 && m.data[1] === base) {
          ecus.add(m.ecu);
          for (const p of supportedIn(base, m.data.slice(2, 6))) supported.add(Number.parseInt(p, 16));
        }
      if (!supported.has(base + 0x20) || base + 0x20 > 0xe0) break;
      page = await this.messages(requestFor(findPid({ pid: base + 0x20 })!)).catch(() => []);
    }
    info.supported = supported;
    info.ecus = [...ecus].sort();
  }

  /** With the ignition off at connect, what the car supports is learnt once it answers (tried every 30 s). */
  private async rediscover(): Promise<void> {
    const now = this.ctx.clock.now();
    if (ageOf(now, this.discoveredAt) < REDISCOVER_MS) return;
    this.discoveredAt = now;
    await this.discover();
  }

  private async query(spec: unknown): Promise<Result> {
    const pid = findPid(spec);
    if (!pid)
      throw errors.DRIVER_ERROR(
        `unknown PID ${JSON.stringify(spec)}: use a J1979 name such as RPM, or {mode, pid, bytes, formula}`,
      );
    if (this.info && !this.info.supported) await this.rediscover();
    const supported = this.info?.supported;
    if (pid.mode === 1 && supported && !supported.has(pid.pid))
      throw errors.OBD_UNSUPPORTED(
        pid.name,
        `${supported.size - 1} PIDs: ${[...supported].filter(Boolean).map(hex).join(' ')}`,
      );
    const command = requestFor(pid);
    const answers = this.answers(await this.messages(command), pid, command);
    const values = answers.map((m) => [m.ecu, pid.decode(m.data.slice(2, 2 + pid.bytes))] as const);
    return this.result(
      pid.type,
      values[0]![1],
      pid.unit,
      values.length > 1 ? { ecus: Object.fromEntries(values) } : undefined,
    );
  }

  /** The messages that answer `pid`, by ECU; a negative response or another PID's answer throws. */
  private answers(msgs: EcuMessage[], pid: PidDef, command: string): EcuMessage[] {
    const mine = msgs
      .filter((m) => m.data[0] === pid.mode + 0x40 && m.data[1] === pid.pid && m.data.length >= 2 + pid.bytes)
      .sort((a, b) => (a.ecu < b.ecu ? -1 : 1));
    return mine.length ? mine : unexpected(msgs, command);
  }

  private async dtc(mode: unknown = 'stored'): Promise<Result> {
    const service = DTC_SERVICE[mode as keyof typeof DTC_SERVICE];
    if (service === undefined)
      throw errors.DRIVER_ERROR(
        `dtc mode ${JSON.stringify(mode)}: use stored (03), pending (07) or permanent (0A)`,
      );
    const command = hex(service);
    const msgs = await this.messages(command);
    if (!msgs.some((m) => m.data[0] === service + 0x40)) unexpected(msgs, command);
    return this.result('dtc', dtcCodes(msgs, service + 0x40, isCan(this.info?.protocol)));
  }

  private async clearDtc(): Promise<Result> {
    const msgs = await this.messages('04');
    if (!msgs.some((m) => m.data[0] === 0x44)) unexpected(msgs, '04');
    return this.result('clear_dtc', true);
  }

  /** Mode 09 PID 02: one ISO-TP message on CAN, or numbered lines on older protocols. */
  private async vin(): Promise<Result> {
    const all = await this.messages('0902');
    const msgs = all.filter((m) => m.data[0] === 0x49 && m.data[1] === 0x02);
    if (!msgs.length) unexpected(all, '0902');
    const ecu = msgs[0]!.ecu;
    const parts = msgs.filter((m) => m.ecu === ecu).sort((a, b) => a.data[2]! - b.data[2]!);
    const bytes = parts.flatMap((m) => m.data.slice(3)).filter((b) => b > 0x20 && b < 0x7f);
    return this.result('vin', String.fromCharCode(...bytes.slice(-17)));
  }

  private async voltage(): Promise<Result> {
    const line = (await this.lines('ATRV'))[0] ?? '';
    const v = Number.parseFloat(line);
    if (!Number.isFinite(v)) throw errors.OBD_REPLY('ATRV', 'GARBAGE', line);
    return this.result('voltage', v, 'V');
  }

  private async raw(command: unknown): Promise<Result> {
    if (typeof command !== 'string' || !/^[\x20-\x7e]{1,64}$/.test(command))
      throw errors.DRIVER_ERROR('raw needs a command: printable text, at most 64 characters (e.g. ATDP)');
    return this.result('raw', (await this.lines(command)).join('\n'));
  }
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

/** Messages that do not answer the request: an ECU's negative response (7F …), or another request's answer. */
function unexpected(msgs: EcuMessage[], command: string): never {
  const raw = msgs.map((m) => `${m.ecu}: ${m.data.map(hex).join(' ')}`).join('\r');
  throw errors.OBD_REPLY(
    command,
    msgs.some((m) => m.data[0] === 0x7f) ? 'NEGATIVE RESPONSE' : 'WRONG REPLY',
    raw,
  );
}
