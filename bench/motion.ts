/**
 * The motion driver on a 1.6 kHz buffered stream (the top rate of common MEMS parts) while the
 * agent runs its default config: a FIFO stands in for /dev/iio:device0, fed in real time with
 * fresh scans of a drive (road noise, braking pulses, the odd bump), each sample different. Prints
 * the rate the driver took (target: all 1,600 a second) and the CPU it costs against the same
 * agent without it, measured in the same run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, cpuSeconds, ensureBuilt, ROOT, startAgent, stop, wait } from './_agent-process.js';
import { report } from './_report.js';
import { rng } from './_workload.js';

const RATE = 1600;
const WINDOW_S = 20;
const G = 9.80665;
const SCALE = G / 1024; // a 12-bit, ±2 g part in 16-bit words

ensureBuilt();
const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-bench-motion-'));
const dev = path.join(dir, 'iio:device0');
mkdirSync(path.join(dev, 'scan_elements'), { recursive: true });
mkdirSync(path.join(dev, 'buffer'));
writeFileSync(path.join(dev, 'name'), 'lis3dh\n');
writeFileSync(path.join(dev, 'in_accel_scale'), `${SCALE}\n`);
writeFileSync(path.join(dev, 'sampling_frequency'), '100\n');
writeFileSync(path.join(dev, 'buffer', 'enable'), '0\n');
for (const [i, a] of ['x', 'y', 'z'].entries()) {
  writeFileSync(path.join(dev, 'scan_elements', `in_accel_${a}_en`), '0\n');
  writeFileSync(path.join(dev, 'scan_elements', `in_accel_${a}_index`), `${i}\n`);
  writeFileSync(path.join(dev, 'scan_elements', `in_accel_${a}_type`), 'le:s12/16>>4\n');
}
const chardevs = path.join(dir, 'dev');
mkdirSync(chardevs);
execFileSync('mkfifo', [path.join(chardevs, 'iio:device0')]);
// The default config with a motion service added, beside it so its relative paths hold.
const config = path.join(ROOT, 'config', `.bench-motion-${process.pid}.yaml`);
writeFileSync(
  config,
  readFileSync(path.join(ROOT, 'config/pitcrew.yaml'), 'utf8').replace(
    /^services:\n/m,
    `services:\n  motion:\n    driver: motion\n    settings: { device: lis3dh, sysfs: ${dir}, dev: ${chardevs}, mode: buffer, rate: ${RATE} }\n`,
  ),
);

/** A drive, one fresh sample at a time: road noise, a braking pulse every few seconds, now and then a bump. */
const random = rng(11);
let braking = 0;
function sample(buf: Buffer, at: number): void {
  if (braking <= 0 && random() < 1 / (4 * RATE)) braking = Math.floor(RATE * (0.2 + random() * 0.5));
  const brake = braking-- > 0 ? -0.3 - random() * 0.4 : 0;
  const bump = random() < 1 / (10 * RATE) ? 1.5 : 0;
  const g = [brake + (random() - 0.5) * 0.06, (random() - 0.5) * 0.08, 1 + bump + (random() - 0.5) * 0.05];
  for (let i = 0; i < 3; i++)
    buf.writeInt16LE(Math.max(-2048, Math.min(2047, Math.round((g[i]! * G) / SCALE))) << 4, at + i * 2);
}

/** CPU % of a core the agent uses over the window, once started (and, with the stream, fed throughout). */
async function measure(withMotion: boolean): Promise<{ cpu: number; written: number; taken: number }> {
  const env = { PITCREW_CONTROL_SOCKET: path.join(dir, withMotion ? 'm.sock' : 'i.sock') };
  const child = startAgent(env, [], withMotion ? config : undefined);
  child.stdout!.resume();
  let written = 0;
  let feeding = true;
  const fed = (async () => {
    if (!withMotion) return;
    const fifo = await open(path.join(chardevs, 'iio:device0'), 'w');
    const t0 = Date.now();
    while (feeding) {
      const due = Math.floor(((Date.now() - t0) / 1000) * RATE) - written;
      if (due > 0) {
        const buf = Buffer.alloc(due * 6);
        for (let i = 0; i < due; i++) sample(buf, i * 6);
        await fifo.write(buf);
        written += due;
      }
      await wait(10);
    }
    await fifo.close();
  })();
  await wait(5000); // past startup
  const c0 = cpuSeconds(child.pid!);
  const t0 = Date.now();
  const w0 = written;
  await wait(WINDOW_S * 1000);
  const used = cpuSeconds(child.pid!) - c0;
  const seconds = (Date.now() - t0) / 1000;
  const sent = written - w0;
  let taken = 0;
  if (withMotion) {
    const st = JSON.parse(
      execFileSync(CLI, ['status', '--json', '--socket', env.PITCREW_CONTROL_SOCKET], { encoding: 'utf8' }),
    );
    taken = st.services.motion.driver.samples;
  }
  feeding = false;
  await stop(child);
  await fed.catch(() => {});
  return { cpu: (used / seconds) * 100, written: sent / seconds, taken: taken / (written / RATE) };
}

try {
  const idle = await measure(false);
  const busy = await measure(true);
  report(
    `motion: samples taken per second from a ${RATE} Hz buffered stream`,
    busy.taken,
    'samples/s',
    RATE * 0.99,
    'higher',
  );
  console.log(
    `motion: agent CPU ${busy.cpu.toFixed(2)} % of a core with the stream, ${idle.cpu.toFixed(2)} % idle on the default config: the stream costs ${(busy.cpu - idle.cpu).toFixed(2)} % (ratio ${(busy.cpu / idle.cpu).toFixed(2)} × idle)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
  rmSync(config, { force: true });
}
