import * as z from 'zod';
import { Duration } from '../../../schemas/common.js';
import type { Timer } from '../../core/clock.js';
import type { DriverContext, Result } from '../../core/types.js';
import { errors, errorText } from '../errors.js';
import { defineDriver, type Settings, type SettingsProblem } from '../types.js';
import type { MessageCodec, SignalValue } from './codec.js';
import { codecsOf, readDbc } from './codecs.js';
import { frameKey } from './dbc.js';
import { CAN_ERR_BUSOFF, type CanFrame } from './frame.js';
import { replaySource } from './replay.js';
import { type CanSource, socketcanSource, virtualSource } from './sources.js';

const SourceSettings = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('socketcan'),
    interface: z.string().min(1),
    fd: z.boolean().default(false),
  }),
  z.strictObject({
    type: z.literal('replay'),
    file: z.string().min(1),
    speed: z.number().positive().default(1),
    loop: z.boolean().default(false),
  }),
  z.strictObject({ type: z.literal('virtual'), bus: z.string().min(1) }),
]);

export const CanSettings = z.strictObject({
  source: SourceSettings,
  dbc: z.array(z.string().min(1)).default([]),
  emit: z
    .array(z.strictObject({ message: z.string().min(1), min_interval: Duration.default(0) }))
    .default([]),
});
type CanSettingsT = z.output<typeof CanSettings>;

/** CAN and CAN-FD with DBC decoding (DESIGN §3.3). */
export const can = defineDriver({
  name: 'can',
  settings: CanSettings,
  handlers: ['signals', 'send'],
  files: (s) => [
    ...(Array.isArray(s.dbc) ? s.dbc.map((_, i) => ['dbc', i]) : []),
    ...((s.source as Settings | undefined)?.type === 'replay' ? [['source', 'file']] : []),
  ],
  // DBC errors (file and line) and `emit` entries no DBC defines, at validation time.
  async check(s) {
    const problems: SettingsProblem[] = [];
    const names = new Set<string>();
    s.dbc.forEach((file, i) => {
      try {
        for (const m of readDbc(file).messages) names.add(m.name);
      } catch (e) {
        problems.push({ path: ['dbc', i], message: errorText(e) });
      }
    });
    if (!problems.length)
      s.emit.forEach((e, i) => {
        if (!names.has(e.message))
          problems.push({
            path: ['emit', i, 'message'],
            message: `no message ${e.message} in the DBC files`,
          });
      });
    return problems;
  },
  create: (s, ctx) => new CanDriver(s, ctx).instance(),
});

interface Emitted {
  minInterval: number;
  last: number;
  sent?: Record<string, SignalValue>;
  timer?: Timer;
}

class CanDriver {
  private readonly byKey: Map<number, MessageCodec>;
  private readonly byName: Map<string, MessageCodec>;
  private readonly source: CanSource;
  /** The last decoded values of each message, by name. */
  private readonly latest = new Map<string, Record<string, SignalValue>>();
  private readonly emits = new Map<string, Emitted>();
  private readonly unknown = new Set<number>();
  private readonly counts = {
    frames: 0,
    decoded: 0,
    unknown_ids: 0,
    wrong_size: 0,
    remote: 0,
    error_frames: 0,
    bus_off: 0,
    sent: 0,
  };

  constructor(
    s: CanSettingsT,
    private readonly ctx: DriverContext,
  ) {
    ({ byKey: this.byKey, byName: this.byName } = codecsOf(s.dbc));
    for (const e of s.emit)
      this.emits.set(e.message, { minInterval: e.min_interval, last: Number.NEGATIVE_INFINITY });
    const src = s.source;
    this.source =
      src.type === 'replay'
        ? replaySource(src.file, src.speed, src.loop, ctx.clock)
        : src.type === 'virtual'
          ? virtualSource(src.bus)
          : socketcanSource(src.interface, src.fd, ctx.log);
  }

  instance() {
    return {
      handlers: {
        signals: async (args: Record<string, unknown>) => this.signals(args.names),
        send: async (args: Record<string, unknown>) => this.send(args.message, args.signals),
      },
      start: () => this.source.start((f) => this.frame(f)),
      stop: async () => {
        for (const e of this.emits.values()) e.timer?.cancel();
        await this.source.stop();
      },
      status: () => ({
        ...this.source.status(),
        ...this.counts,
        ...(this.unknown.size
          ? {
              unknown: [...this.unknown]
                .slice(0, 20)
                .map((k) => (k % 0x1_0000_0000).toString(16).toUpperCase()),
            }
          : {}),
      }),
    };
  }

  private frame(f: CanFrame): void {
    const c = this.counts;
    c.frames++;
    if (f.error) {
      c.error_frames++;
      if (f.id & CAN_ERR_BUSOFF) c.bus_off++;
      return;
    }
    if (f.remote) return void c.remote++;
    const key = frameKey(f.id, f.extended);
    const codec = this.byKey.get(key);
    if (!codec) {
      c.unknown_ids++;
      if (this.unknown.size < 100) this.unknown.add(key);
      return;
    }
    if (!codec.fits(f.data.length)) return void c.wrong_size++;
    c.decoded++;
    const name = codec.message.name;
    const values = codec.decode(f.data);
    const prev = this.latest.get(name);
    const changed = !prev || !sameValues(prev, values);
    if (changed) this.latest.set(name, values);
    const ts = this.ctx.clock.now();
    // Unchanged: the stored object itself, so the store sees no change.
    this.ctx.signal(name, changed ? values : prev, ts);
    const e = this.emits.get(name);
    if (e && changed) this.emitSoon(name, e, ts);
  }

  /** `vehicle/can/<message>` on a change, at most once per `min_interval`: a change inside it goes out at its end. */
  private emitSoon(name: string, e: Emitted, now: number): void {
    if (e.timer) return;
    const wait = e.last + e.minInterval - now;
    if (wait <= 0) {
      this.emit(name, e);
      return;
    }
    e.timer = this.ctx.clock.setTimeout(() => {
      e.timer = undefined;
      this.emit(name, e);
    }, wait);
  }

  private emit(name: string, e: Emitted): void {
    const values = this.latest.get(name)!;
    if (e.sent && sameValues(e.sent, values)) return; // changed back within the interval
    e.sent = values;
    e.last = this.ctx.clock.now();
    this.ctx.bus.emit(`vehicle/can/${name}`, { ...values }, this.ctx.service);
  }

  /** The latest value of each `Message.Signal` named, as `message_signal` results with their units. */
  private signals(names: unknown): Result[] {
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && n.includes('.')))
      throw errors.DRIVER_ERROR('signals needs names: a list of Message.Signal');
    const ts = this.ctx.clock.now();
    const out: Result[] = [];
    for (const n of names as string[]) {
      const [msg, sig] = n.split('.', 2) as [string, string];
      const codec = this.byName.get(msg);
      const def = codec?.message.signals.find((s) => s.name === sig);
      if (!def) throw errors.DRIVER_ERROR(`no signal ${n} in the DBC files`);
      const v = this.latest.get(msg)?.[sig];
      if (v !== undefined)
        out.push({
          type: `${msg}_${sig}`.toLowerCase(),
          value: v,
          ...(def.unit ? { unit: def.unit } : {}),
          ts,
        });
    }
    return out;
  }

  private send(message: unknown, signals: unknown): Result {
    const codec = typeof message === 'string' ? this.byName.get(message) : undefined;
    if (!codec) throw errors.DRIVER_ERROR(`send: no message ${JSON.stringify(message)} in the DBC files`);
    if (!signals || typeof signals !== 'object')
      throw errors.DRIVER_ERROR('send needs signals: {name: value}');
    const m = codec.message;
    const data = codec.encode(signals as Record<string, SignalValue>);
    this.source.send({ id: m.id, extended: m.extended, data, fd: m.fd, remote: false, error: false });
    this.counts.sent++;
    return {
      type: 'send',
      value: Buffer.from(data).toString('hex').toUpperCase(),
      message: m.name,
      ts: this.ctx.clock.now(),
    };
  }
}

function sameValues(a: Record<string, SignalValue>, b: Record<string, SignalValue>): boolean {
  for (const k in b) if (a[k] !== b[k]) return false;
  for (const k in a) if (!(k in b)) return false;
  return true;
}
