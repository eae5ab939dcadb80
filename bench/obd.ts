/**
 * OBD request round trips through the elm327 driver over a real pty pair (socat) to the ELM327
 * emulator of the test suite, which answers at once: a multi-PID worker's queries in random
 * order, each decoded and its value used. Target ≥ 2,000 queries/s. Baseline, in the same run:
 * the bare round trip on the same pty (write a request, wait for the prompt) with no driver.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Bus } from '../agent/core/bus.js';
import { realClock } from '../agent/core/clock.js';
import { silentLogger } from '../agent/core/logger.js';
import type { Result } from '../agent/core/types.js';
import { elm327 } from '../agent/drivers/obd/elm327.js';
import { openSerialPort } from '../agent/drivers/serial/open-port.js';
import { CAR, ElmEmulator } from '../test/helpers/elm-emulator.js';
import { report } from './_report.js';
import { rng } from './_workload.js';

const QUERIES = 5000;
const PIDS = [
  'RPM',
  'SPEED',
  'COOLANT_TEMP',
  'THROTTLE_POS',
  'ENGINE_LOAD',
  'FUEL_LEVEL',
  'OIL_TEMP',
  'CONTROL_MODULE_VOLTAGE',
];

const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-obd-'));
const port = path.join(dir, 'ttyUSB0');
const device = path.join(dir, 'device');
const socat = spawn('socat', [`pty,raw,echo=0,link=${port}`, `pty,raw,echo=0,link=${device}`], {
  stdio: 'ignore',
});
while (!existsSync(port) || !existsSync(device)) await new Promise((r) => setTimeout(r, 20));
const elm = new ElmEmulator(device, structuredClone(CAR));
await elm.attach();

/** The floor: request, prompt, next request, on the bare port. */
async function bare(): Promise<number> {
  const p = await openSerialPort(port, 38400);
  let prompt: () => void = () => {};
  p.on('data', (b: Buffer) => b.includes(0x3e) && prompt());
  const t0 = performance.now();
  for (let i = 0; i < QUERIES; i++)
    await new Promise<void>((resolve) => {
      prompt = resolve;
      p.write('010C\r');
    });
  const rate = QUERIES / ((performance.now() - t0) / 1000);
  await new Promise<void>((r) => p.close(() => r()));
  return rate;
}

async function driver(): Promise<number> {
  const bus = new Bus(realClock);
  let up = false;
  bus.on('vehicle/obd/connected', () => {
    up = true;
  });
  const d = await elm327.create(elm327.settings.parse({ port, baudrate: 38400 }), {
    service: 'obd',
    bus,
    clock: realClock,
    log: silentLogger,
    baseDir: dir,
    dataDir: dir,
    fail: () => {},
    signal: () => {},
    read: () => undefined,
  });
  await d.start();
  while (!up) await new Promise((r) => setTimeout(r, 10));
  const random = rng(7);
  let sum = 0;
  const t0 = performance.now();
  for (let i = 0; i < QUERIES; i++) {
    const r = (await d.handlers.query!({ pid: PIDS[Math.floor(random() * PIDS.length)] })) as Result;
    sum += r.value as number;
  }
  const rate = QUERIES / ((performance.now() - t0) / 1000);
  await d.stop();
  if (!(sum > 0)) throw new Error('no values');
  return rate;
}

await bare(); // warm-up
const floor = await bare();
const ours = await driver();
await elm.close();
socat.kill();
rmSync(dir, { recursive: true, force: true });
console.log(
  `bare pty round trip: ${floor.toFixed(0)}/s; through the driver (queue, parse, decode): ${ours.toFixed(0)}/s, ${(ours / floor).toFixed(2)} of the floor`,
);
report('OBD queries over a pty pair, emulator answering at once', ours, 'queries/s', 2000, 'higher');
