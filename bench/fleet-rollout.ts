/**
 * A fleet rollout through the broker alone: 1,000 units (PITCREW_FLEET_UNITS), each a whole agent
 * from the built code (4 processes of them), on one local mosquitto. `pitcrew fleet rollout` (the
 * installed command) takes a signed bundle to all of them in waves of 1 %, 10 % and 100 %; printed:
 * the time from its start to every unit applied, the broker's CPU over that time and the command's
 * peak memory. Its baseline, measured in the same run on the same units: the next bundle pushed to
 * every unit at once (what `bundle push` does unit by unit), timed to the last acknowledgement.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { keygen, signEnvelope } from '../agent/rollout/signing.js';
import { startFleet } from '../test/helpers/fleet.js';
import { Broker } from '../test/helpers/mosquitto.js';
import { CLI, cpuSeconds, ensureBuilt } from './_agent-process.js';

const UNITS = Number(process.env.PITCREW_FLEET_UNITS ?? 1000);
const PROCESSES = 4;

ensureBuilt();
const broker = await Broker.start();
const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-fleet-rollout-'));
const key = keygen();
writeFileSync(path.join(dir, 'fleet.key.pub'), key.publicKey);
const ids = Array.from({ length: UNITS }, (_, i) => `unit-${String(i).padStart(4, '0')}`);
const t0 = performance.now();
const fleet = await startFleet(
  dir,
  broker.url,
  path.join(dir, 'fleet.key.pub'),
  ids.map((id) => ({ id })),
  PROCESSES,
);
console.log(
  `${UNITS} agents online in ${((performance.now() - t0) / 1000).toFixed(1)} s (${(fleet.rss / UNITS / 1024 ** 2).toFixed(1)} MB each)`,
);

/** A bundle as a fleet engineer writes one: a handful of rules with conditions and actions. */
function bundle(version: number): string {
  const rules = Array.from({ length: 8 }, (_, i) => ({
    name: `rule${i}`,
    on: `vehicle/obd/${['speed', 'rpm', 'coolant_temp', 'fuel_level'][i % 4]}`,
    when: { '>': [{ var: 'event.data.value' }, 50 + version + i] },
    do: [{ emit: { tag: `alert/r${i}`, data: { value: '{{ event.data.value }}' } } }],
  }));
  const file = path.join(dir, `bundle-${version}.json`);
  writeFileSync(
    file,
    JSON.stringify(signEnvelope(Buffer.from(JSON.stringify({ version, rules })), key.privatePem)),
  );
  return file;
}

/** The rollout command, as installed: wall time, the broker's CPU seconds, the command's peak RSS. */
async function rollout(
  file: string,
): Promise<{ ms: number; brokerCpu: number; peakMB: number; code: number }> {
  const cpu0 = cpuSeconds(broker.pid!);
  const start = performance.now();
  const child = spawn(
    CLI,
    [
      'fleet',
      'rollout',
      '--url',
      broker.url,
      '--state',
      path.join(dir, 'fleet.db'),
      '--bundle',
      file,
      '--all',
      '--waves',
      '1%,10%,100%',
      '--json',
    ],
    {
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  let peak = 0;
  // VmHWM is the peak itself: reading it late still gives it.
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {}
  }, 20);
  const code = await new Promise<number>((r) => child.once('exit', (c) => r(c ?? 1)));
  clearInterval(poll);
  return { ms: performance.now() - start, brokerCpu: cpuSeconds(broker.pid!) - cpu0, peakMB: peak, code };
}

/** The baseline: one bundle published to every unit at once, timed to the last `applied`. */
async function pushAll(file: string, version: number): Promise<number> {
  const client = await broker.client();
  const applied = new Set<string>();
  let done: () => void = () => {};
  const all = new Promise<void>((r) => {
    done = r;
  });
  client.on('message', (topic, m) => {
    const a = JSON.parse(m.toString()) as { version: number; status: string };
    if (a.version === version && a.status === 'applied') applied.add(topic);
    if (applied.size === UNITS) done();
  });
  await client.subscribeAsync('pitcrew/+/ack', { qos: 1 });
  const envelope = readFileSync(file, 'utf8');
  const start = performance.now();
  await Promise.all(ids.map((id) => client.publishAsync(`pitcrew/${id}/config`, envelope, { qos: 1 })));
  await all;
  const ms = performance.now() - start;
  await client.endAsync();
  return ms;
}

const waved = await rollout(bundle(1));
const flat = await pushAll(bundle(2), 2);
await fleet.close();
await broker.close();
rmSync(dir, { recursive: true, force: true });

if (waved.code !== 0) throw new Error(`the rollout did not end with every unit applied (exit ${waved.code})`);
console.log(
  `fleet rollout of a signed bundle to ${UNITS} units in waves of 1/10/100 %: all applied after ${(waved.ms / 1000).toFixed(2)} s, against ${(flat / 1000).toFixed(2)} s for the same fleet pushed at once (ratio ${(waved.ms / flat).toFixed(2)})`,
);
console.log(
  `broker CPU during the rollout: ${waved.brokerCpu.toFixed(2)} s (${((waved.brokerCpu / waved.ms) * 1e5).toFixed(1)} % of a core); the command's peak memory: ${waved.peakMB.toFixed(0)} MB`,
);
