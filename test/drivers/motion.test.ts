/**
 * The motion driver (DESIGN §13) on Linux IIO: a sysfs tree the test writes (the kernel's files
 * and formats, values changed over time), a FIFO standing in for the buffered character device,
 * hand-computed vectors for scale, scan decoding and levelling, and a scripted drive with a
 * braking pulse and an impact that fires exactly the expected events on the fake clock.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Bus, type Event } from '../../agent/core/bus.js';
import { FakeClock } from '../../agent/core/clock.js';
import { SignalStore } from '../../agent/core/signals.js';
import type { DriverInstance, Result } from '../../agent/core/types.js';
import { MotionDetector } from '../../agent/drivers/motion/detector.js';
import { axisMapper, levelling, rotate } from '../../agent/drivers/motion/frame.js';
import { decodeScan, G, scanLayout, type Vec } from '../../agent/drivers/motion/iio.js';
import { motion } from '../../agent/drivers/motion/motion.js';
import { startCli } from '../helpers/cli.js';
import { tagged } from '../helpers/desired-unit.js';
import { configFile, tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** A 12-bit accelerometer in 16-bit words (lis3dh-like): 1 g is 1024 counts at this scale. */
const SCALE = G / 1024;

/** An `iio:device0` as the kernel lays it out; `raw` sets what in_accel_*_raw say now (in g). */
function iioTree(name = 'lis3dh') {
  const root = tmpDir();
  const dir = path.join(root, 'iio:device0');
  mkdirSync(path.join(dir, 'scan_elements'), { recursive: true });
  mkdirSync(path.join(dir, 'buffer'));
  writeFileSync(path.join(dir, 'name'), `${name}\n`);
  writeFileSync(path.join(dir, 'in_accel_scale'), `${SCALE.toFixed(9)}\n`);
  writeFileSync(path.join(dir, 'sampling_frequency'), '100\n');
  writeFileSync(path.join(dir, 'buffer', 'enable'), '0\n');
  ['x', 'y', 'z'].forEach((a, i) => {
    writeFileSync(path.join(dir, 'scan_elements', `in_accel_${a}_en`), '0\n');
    writeFileSync(path.join(dir, 'scan_elements', `in_accel_${a}_index`), `${i}\n`);
    writeFileSync(path.join(dir, 'scan_elements', `in_accel_${a}_type`), 'le:s12/16>>4\n');
  });
  const raw = (g: Vec) => {
    for (const [i, a] of ['x', 'y', 'z'].entries())
      writeFileSync(path.join(dir, `in_accel_${a}_raw`), `${Math.round((g[i]! * G) / SCALE)}\n`);
  };
  raw([0, 0, 1]);
  return { root, dir, raw };
}

/** One scan as the buffer carries it: three le:s12/16>>4 words. */
const scan = (g: Vec) => {
  const b = Buffer.alloc(6);
  for (const [i, v] of g.entries()) b.writeInt16LE(Math.round((v * G) / SCALE) << 4, i * 2);
  return b;
};

async function driverOn(settings: Record<string, unknown>, clock = new FakeClock(0)) {
  const bus = new Bus(clock);
  const events: Event[] = [];
  bus.on('vehicle/motion/#', (e) => events.push(e));
  const signals = new SignalStore();
  const logs: string[] = [];
  const d: DriverInstance = await motion.create(motion.settings.parse(settings), {
    service: 'motion',
    bus,
    clock,
    log: pino({ level: 'warn' }, { write: (line: string) => logs.push(line) }),
    baseDir: process.cwd(),
    dataDir: process.cwd(),
    fail: () => {},
    signal: (type, value, ts) => signals.set('motion', type, value, ts),
    read: (p) => signals.byPath(p)?.value,
  });
  return { d, events, signals, clock, logs, call: async (h: string) => (await d.handlers[h]!({})) as Result };
}

const near = (a: readonly number[], b: readonly number[], eps = 1e-3) =>
  assert.ok(
    a.every((v, i) => Math.abs(v - b[i]!) < eps),
    `${a} ≉ ${b}`,
  );

/** Mounted tilted 30° about x, at rest it reads (0, 0.5, 0.866) g; once calibrated, (0, 0, 1). */
async function tiltedThenCalibrated(
  tree: ReturnType<typeof iioTree>,
  call: (h: string) => Promise<Result>,
  clock: FakeClock,
): Promise<void> {
  tree.raw([0, 0.5, 0.866]);
  await clock.advance(20);
  near(Object.values((await call('accel')).value as object), [0, 0.5, 0.866], 2e-3);
  const calibrated = call('calibrate');
  await clock.advance(600);
  await calibrated;
  near(Object.values((await call('accel')).value as object), [0, 0, 1], 2e-3);
}

describe('IIO: hand-computed vectors', () => {
  it('decodes le:s12/16>>4 scans, signs and all, and lays out a timestamp after padding', () => {
    const { dir } = iioTree();
    for (const a of ['x', 'y', 'z']) writeFileSync(path.join(dir, 'scan_elements', `in_accel_${a}_en`), '1');
    const layout = scanLayout(dir);
    assert.equal(layout.size, 6);
    // -1 g on x: -1024 counts, stored as 0xC000 (>>4 of 0xC000 as 12 bits is 0xC00 = -1024).
    assert.deepEqual(
      decodeScan(Buffer.from([0x00, 0xc0, 0x00, 0x40, 0xf0, 0x7f]), 0, layout).counts,
      [-1024, 1024, 2047],
    );
    writeFileSync(path.join(dir, 'scan_elements', 'in_timestamp_en'), '1');
    writeFileSync(path.join(dir, 'scan_elements', 'in_timestamp_index'), '3');
    writeFileSync(path.join(dir, 'scan_elements', 'in_timestamp_type'), 'le:s64/64');
    const withTs = scanLayout(dir);
    // Three 2-byte words, then the 8-byte timestamp aligned to 8: 16 bytes a scan.
    assert.deepEqual([withTs.size, withTs.channels[3]!.at], [16, 8]);
    const b = Buffer.alloc(16);
    b.writeBigInt64LE(1_700_000_000_123_456_789n, 8);
    assert.equal(decodeScan(b, 0, withTs).ns, Number(1_700_000_000_123_456_789n));
  });

  it('levels a tilted mounting: gravity measured at 30° about x becomes straight up, and the map turns axes', () => {
    const g: Vec = [0, Math.sin(Math.PI / 6), Math.cos(Math.PI / 6)];
    const m = levelling(g);
    near(rotate(m, g), [0, 0, 1]);
    // A rotation of -30° about x, written out: [[1,0,0],[0,cos,-sin],[0,sin,cos]] with cos 0.866, sin 0.5.
    near(m.flat(), [1, 0, 0, 0, 0.866025, -0.5, 0, 0.5, 0.866025]);
    near(rotate(levelling([0, 0, -1]), [0, 0, -1]), [0, 0, 1]);
    assert.deepEqual(axisMapper({ x: '-y', y: 'x', z: 'z' })([1, 2, 3]), [-2, 1, 3]);
  });
});

describe('motion events on a scripted drive (fake clock)', () => {
  it('a braking pulse and an impact fire exactly one harsh_braking and one impact, with the peak and its direction', () => {
    const th = motion.settings.parse({ device: 'x' });
    const seen: [string, Record<string, unknown>, number][] = [];
    const d = new MotionDetector(th, (e, data, t) => seen.push([e, data, t]));
    const at100Hz = (from: number, to: number, a: (t: number) => Vec) => {
      for (let t = from; t < to; t += 10) d.sample(a(t), t, false);
    };
    at100Hz(0, 5000, () => [0.05, 0.02, 0]); // cruising
    at100Hz(5000, 5150, () => [-0.5, 0, 0]); // braking, too short
    at100Hz(5150, 6000, () => [0, 0, 0]);
    at100Hz(6000, 6400, (t) => [t <= 6200 ? -0.45 : -0.6, 0, 0]); // braking, 400 ms
    at100Hz(6400, 8000, () => [0.1, 0, 0]);
    d.sample([-2.4, -1.8, 0.3], 8000, false); // a hit from ahead-right: 3 g
    at100Hz(8010, 9000, () => [0, 0, 0]);
    assert.deepEqual(
      seen.map(([e, , t]) => [e, t]),
      [
        ['harsh_braking', 6200],
        ['impact', 8050],
      ],
    );
    assert.equal(seen[0]![1].peak_g, 0.45, 'the peak so far when it fired');
    const impact = seen[1]![1];
    assert.equal(impact.peak_g, 3.015);
    assert.deepEqual(impact.direction, { x: -0.796, y: -0.597, z: 0.1 });
    assert.equal(impact.heading_deg, 217, 'from behind-right of straight ahead: atan2(-1.8, -2.4)');
  });

  it('tow: motion while the engine is off, never while it runs', () => {
    const th = motion.settings.parse({ device: 'x', tow: { g: 0.05, for: '2s' } });
    const seen: string[] = [];
    const d = new MotionDetector(th, (e) => seen.push(e));
    for (let t = 0; t < 5000; t += 10) d.sample([0.08, 0, 0.02], t, false);
    assert.deepEqual(seen, []);
    for (let t = 5000; t < 9000; t += 10) d.sample([0.08, 0, 0.02], t, true);
    assert.deepEqual(seen, ['tow']);
  });
});

describe('the motion driver', () => {
  it('polls sysfs in g, levels by calibrate, and sees a braking pulse written into the raw files', async () => {
    const tree = iioTree();
    const calibration = path.join(tmpDir(), 'level.json');
    const { d, events, call, clock, signals } = await driverOn({
      device: 'lis3dh',
      sysfs: tree.root,
      rate: 100,
      calibration,
      harsh_braking: { g: 0.4, for: '200ms' },
      // Uncalibrated, the tilt reads as 0.5 g sideways.
      harsh_cornering: { g: 0.6, for: '200ms' },
    });
    await d.start();
    await tiltedThenCalibrated(tree, call, clock);
    assert.ok(signals.byPath('motion.accel'), 'signals.motion.accel is set');
    // Braking at 0.5 g along the car's x, in the tilted sensor's frame that is still its x.
    tree.raw([-0.5, 0.5, 0.866]);
    await clock.advance(300);
    tree.raw([0, 0.5, 0.866]);
    await clock.advance(500);
    assert.deepEqual(
      events.map((e) => e.tag),
      ['vehicle/motion/harsh_braking'],
    );
    await d.stop();
  });

  it('a calibration a power cut left torn: it runs uncalibrated, says so, and is calibrated again', async () => {
    const tree = iioTree();
    const calibration = path.join(tmpDir(), 'level.json');
    writeFileSync(calibration, '');
    const { d, call, clock, logs } = await driverOn({
      device: 'lis3dh',
      sysfs: tree.root,
      rate: 100,
      calibration,
    });
    await d.start();
    assert.match(
      logs.join('\n'),
      /level\.json cannot be read \(0 bytes, not JSON.*taken as level until calibrated again/,
    );
    await tiltedThenCalibrated(tree, call, clock);
    assert.equal((JSON.parse(readFileSync(calibration, 'utf8')) as number[][]).length, 3);
    await d.stop();
  });

  it('a missing device: a clear status, and it is found once it appears', async () => {
    const root = tmpDir();
    const { d, clock } = await driverOn({
      device: 'lis3dh',
      sysfs: root,
      reconnect: { min: '1s', max: '4s' },
    });
    await d.start();
    assert.equal(d.status!().state, 'waiting');
    assert.match(String(d.status!().last_error), /no IIO device of that name under .* \(found: none\)/);
    const tree = iioTree();
    rmSync(root, { recursive: true });
    execFileSync('ln', ['-s', tree.root, root]);
    await clock.advance(1000);
    assert.equal(d.status!().state, 'open');
    await d.stop();
  });

  it('streams the buffered device (a FIFO standing in for /dev/iio:device0) and enables the scan elements', async () => {
    const tree = iioTree();
    const dev = tmpDir();
    execFileSync('mkfifo', [path.join(dev, 'iio:device0')]);
    const { d, events } = await driverOn({
      device: path.join(tree.root, 'iio:device0'),
      dev,
      mode: 'buffer',
      rate: 1600,
      impact: { g: 1.5, within: '10ms' },
    });
    await d.start();
    // Opened without blocking: the driver's read end opens on the thread pool meanwhile.
    const fifo = await open(path.join(dev, 'iio:device0'), 'w');
    const scans: Buffer[] = [];
    for (let i = 0; i < 1600; i++) scans.push(scan(i === 800 ? [0, 1.9, 1] : [0, 0, 1]));
    await fifo.write(Buffer.concat(scans));
    await fifo.close();
    await waitFor(
      () => d.status!().samples === 1600,
      'every sample taken',
      () => JSON.stringify(d.status!()),
    );
    assert.equal(readSys(tree.dir, 'scan_elements/in_accel_x_en'), '1');
    assert.equal(readSys(tree.dir, 'buffer/enable'), '1');
    assert.equal(readSys(tree.dir, 'sampling_frequency'), '1600');
    assert.deepEqual(
      events.map((e) => [e.tag, e.data.peak_g, e.data.heading_deg]),
      [['vehicle/motion/impact', 1.9, 90]],
    );
    await d.stop();
  });
});

const readSys = (dir: string, rel: string) => readFileSync(path.join(dir, rel), 'utf8').trim();

describe('motion through the installed command', () => {
  it('reports a braking pulse written into sysfs as vehicle/motion/harsh_braking', async () => {
    const tree = iioTree();
    const { file } = configFile(
      (d) => `version: 1
unit: { id: m1, data_dir: var }
control: { socket: ${d}/ctl.sock }
services:
  motion:
    driver: motion
    settings: { device: lis3dh, sysfs: ${tree.root}, rate: 100, harsh_braking: { g: 0.4, for: 100ms } }
`,
    );
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    await agent.waitFor(tagged('system/agent/started'));
    tree.raw([-0.7, 0, 1]);
    const hit = JSON.parse(await agent.waitFor(tagged('vehicle/motion/harsh_braking'))) as Event;
    assert.equal(hit.data.peak_g, 0.7);
    agent.child.kill('SIGTERM');
    await agent.exited;
  });
});
