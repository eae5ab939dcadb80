import { createReadStream, existsSync, type ReadStream, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { Duration } from '../../../schemas/common.js';
import type { Timer } from '../../core/clock.js';
import { readJsonFile, writeDurably } from '../../core/durable-file.js';
import { errorText } from '../../core/errors.js';
import { Reopener } from '../reopen.js';
import { defineDriver } from '../types.js';
import { MotionDetector, type MotionEvent } from './detector.js';
import { type AxisMap, axisMapper, IDENTITY, levelling, type Matrix, rotate } from './frame.js';
import {
  calibrationOf,
  decodeScan,
  findDevice,
  G,
  type IioDevice,
  milliG,
  readG,
  type ScanLayout,
  scanLayout,
  type Vec,
  xyz,
} from './iio.js';

const SensorAxis = z.string().regex(/^[+-]?[xyz]$/, { error: 'a sensor axis: x, -x, y, -y, z or -z' });
const Held = (g: number, ms: number) =>
  z.strictObject({ g: z.number().positive(), for: Duration }).default({ g, for: ms });

export const MotionSettings = z.strictObject({
  /** The accelerometer: its IIO name (`lis3dh`) or the path of its `iio:deviceN` directory. */
  device: z.string().min(1),
  /** Where IIO devices are listed, and where their character devices are. */
  sysfs: z.string().default('/sys/bus/iio/devices'),
  dev: z.string().default('/dev'),
  /** `poll`: read `in_accel_*_raw` `rate` times a second; `buffer`: stream `/dev/iio:deviceN`. */
  mode: z.enum(['poll', 'buffer']).default('poll'),
  rate: z.number().positive().max(6400).default(100),
  /** Which sensor axis is the vehicle's x (forward), y (left) and z (up), with a sign. */
  axes: z.strictObject({ x: SensorAxis, y: SensorAxis, z: SensorAxis }).default({ x: 'x', y: 'y', z: 'z' }),
  /** Where `calibrate` keeps the mounting's levelling rotation (read again at start). */
  calibration: z.string().optional(),
  /** How often `signals.<service>.accel` is set (the events see every sample). */
  signal_rate: z.number().positive().max(100).default(10),
  /** The signal that says whether the engine runs, for tow detection. */
  engine: z.string().default('signals.obd.engine_running'),
  harsh_braking: Held(0.4, 200),
  harsh_acceleration: Held(0.35, 200),
  harsh_cornering: Held(0.45, 200),
  impact: z.strictObject({ g: z.number().positive(), within: Duration }).default({ g: 2.5, within: 50 }),
  tow: Held(0.05, 30_000),
  reconnect: z
    .strictObject({ min: Duration.default(1000), max: Duration.default(60_000) })
    .default({ min: 1000, max: 60_000 }),
});

/** Samples `calibrate` averages at rest. */
const CALIBRATION_SAMPLES = 50;

/**
 * An accelerometer through Linux IIO (DESIGN §13): readings in g in the vehicle's frame (the axis
 * map, then the levelling rotation `calibrate` learned at rest), polled from sysfs or streamed from
 * the buffered character device; `vehicle/motion/{harsh_braking, harsh_acceleration,
 * harsh_cornering, impact, tow}` from thresholds held over the samples' own time. A device that is
 * missing or not readable is said in the status and looked for again, as the serial drivers do.
 */
const isMatrix = (m: unknown): m is Matrix =>
  Array.isArray(m) &&
  m.length === 3 &&
  m.every((r) => Array.isArray(r) && r.length === 3 && r.every(Number.isFinite));

export const motion = defineDriver({
  name: 'motion',
  settings: MotionSettings,
  handlers: ['accel', 'calibrate'],
  create(s, ctx) {
    const toVehicle = axisMapper(s.axes as AxisMap);
    let level = IDENTITY;
    try {
      const kept = s.calibration ? readJsonFile(s.calibration) : undefined;
      if (kept !== undefined && !isMatrix(kept)) throw new Error(`${s.calibration} holds no 3×3 matrix`);
      level = kept ?? IDENTITY;
    } catch (e) {
      ctx.log.warn(`motion: ${errorText(e)}; the mounting is taken as level until calibrated again`);
    }
    const counts = { samples: 0, events: 0, bad_reads: 0 };
    let device: string | undefined;
    let last: { g: Vec; t: number } | undefined;
    let lastSignal = 0;
    let poll: Timer | undefined;
    let stream: ReadStream | undefined;
    const calibrating: Vec[] = [];
    let calibrated: ((m: Matrix) => void) | undefined;
    const detector = new MotionDetector(s, (event: MotionEvent, data, t) => {
      counts.events++;
      ctx.bus.emit(`vehicle/motion/${event}`, { service: ctx.service, ...data, ts: t }, ctx.service);
    });

    /** One sample in sensor g at time t: into the vehicle's frame, the events, the signal. */
    const take = (sensor: Vec, t: number) => {
      counts.samples++;
      const g = rotate(level, toVehicle(sensor));
      last = { g, t };
      if (calibrated) {
        calibrating.push(toVehicle(sensor));
        if (calibrating.length >= CALIBRATION_SAMPLES) {
          const mean = [0, 1, 2].map(
            (i) => calibrating.reduce((n, v) => n + v[i]!, 0) / calibrating.length,
          ) as Vec;
          calibrating.length = 0;
          const done = calibrated;
          calibrated = undefined;
          done(levelling(mean));
        }
      }
      const running = ctx.read(s.engine);
      detector.sample([g[0], g[1], g[2] - 1], t, running !== true && running !== 1);
      if (t - lastSignal >= 1000 / s.signal_rate) {
        lastSignal = t;
        ctx.signal('accel', xyz(g), t);
      }
    };

    const fail = (e: unknown) => {
      poll?.cancel();
      stream?.destroy();
      stream = undefined;
      reopen.failed(e);
    };

    const pollEvery = (dev: IioDevice) => {
      const cal = calibrationOf(dev.dir);
      const tick = () => {
        try {
          take(readG(dev.dir, cal), ctx.clock.now());
          reopen.working();
        } catch (e) {
          counts.bad_reads++;
          return fail(e);
        }
        poll = ctx.clock.setTimeout(tick, 1000 / s.rate);
      };
      tick();
    };

    const streamFrom = (dev: IioDevice) => {
      const cal = calibrationOf(dev.dir);
      const el = path.join(dev.dir, 'scan_elements');
      for (const a of ['x', 'y', 'z']) writeFileSync(path.join(el, `in_accel_${a}_en`), '1');
      if (existsSync(path.join(dev.dir, 'sampling_frequency')))
        writeFileSync(path.join(dev.dir, 'sampling_frequency'), String(s.rate));
      const layout: ScanLayout = scanLayout(dev.dir);
      if (existsSync(path.join(dev.dir, 'buffer', 'enable')))
        writeFileSync(path.join(dev.dir, 'buffer', 'enable'), '1');
      const t0 = ctx.clock.now();
      let n = 0;
      let rest: Buffer = Buffer.alloc(0);
      const per = [0, 1, 2].map((i) => cal.scale[i]! / G);
      stream = createReadStream(path.join(s.dev, dev.id), { highWaterMark: 64 * layout.size });
      stream.on('data', (chunk) => {
        const buf = rest.length ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
        let at = 0;
        for (; at + layout.size <= buf.length; at += layout.size) {
          const { counts: c } = decodeScan(buf, at, layout);
          // Sample time from the rate: the device's clock, not the event loop's.
          take(
            [
              (c[0] + cal.offset[0]) * per[0]!,
              (c[1] + cal.offset[1]) * per[1]!,
              (c[2] + cal.offset[2]) * per[2]!,
            ],
            t0 + (n++ * 1000) / s.rate,
          );
        }
        rest = buf.subarray(at);
        reopen.working();
      });
      stream.on('error', fail);
      stream.on('end', () => fail(new Error(`${path.join(s.dev, dev.id)} ended`)));
    };

    const reopen = new Reopener({
      what: 'motion',
      clock: ctx.clock,
      log: ctx.log,
      ...s.reconnect,
      open: () => {
        if (!reopen.running) return;
        try {
          const dev = findDevice(s.sysfs, s.device);
          device = dev.dir;
          reopen.opened('open');
          if (s.mode === 'poll') pollEvery(dev);
          else streamFrom(dev);
        } catch (e) {
          fail(e);
        }
      },
    });

    return {
      handlers: {
        accel: async () => {
          if (!last) throw new Error(`no reading yet (${reopen.lastError ?? reopen.state})`);
          return {
            type: 'accel',
            value: xyz(last.g),
            unit: 'g',
            ts: last.t,
          };
        },
        /** Learns the mounting's tilt from the next samples at rest; kept in `calibration` when set. */
        calibrate: async () => {
          const m = await new Promise<Matrix>((resolve) => {
            calibrating.length = 0;
            calibrated = resolve;
          });
          level = m;
          if (s.calibration) writeDurably(s.calibration, `${JSON.stringify(m)}\n`, 0o644);
          return { type: 'calibration', value: m.map((r) => r.map(milliG)), ts: ctx.clock.now() };
        },
      },
      start: async () => reopen.start(),
      stop: async () => {
        reopen.stop();
        poll?.cancel();
        stream?.destroy();
      },
      status: () => ({
        state: reopen.state,
        last_error: reopen.lastError,
        device,
        mode: s.mode,
        rate: s.rate,
        ...counts,
      }),
    };
  },
});
