/**
 * A fleet against one broker: N agents (200; PITCREW_FLEET_UNITS) on the default config, each its
 * own unit with its own simulated car, in one process on the built code (bench/_fleet.mjs), all
 * time sped up (5×, which one core keeps up with; PITCREW_FLEET_SCALE), against one local mosquitto; a consumer subscribed to
 * every unit's `data` decodes each batch. Over a 30 s window after a warm-up it prints the records
 * delivered per second against what the fleet produced in the same window (their ratio: 1.0 keeps
 * up), the broker's CPU and the agents' memory per unit.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Broker } from '../test/helpers/mosquitto.js';
import { commandNode, cpuSeconds, ensureBuilt, wait } from './_agent-process.js';
import { report } from './_report.js';

const UNITS = Number(process.env.PITCREW_FLEET_UNITS ?? 200);
const SCALE = Number(process.env.PITCREW_FLEET_SCALE ?? 5);
const WINDOW_S = Number(process.env.PITCREW_FLEET_SECONDS ?? 30);

interface Mark {
  queued: number;
  connected: number;
  rss: number;
  heap: number;
}

/** The next message from the agents' process that has `key`. */
function reply<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: Record<string, unknown>) => {
      if (!(key in m)) return;
      child.off('message', on);
      resolve(m[key] as T);
    };
    child.on('message', on);
    child.once('exit', (code) => reject(new Error(`the fleet process exited (${code})`)));
  });
}

async function mark(child: ChildProcess): Promise<Mark> {
  const r = reply<Mark>(child, 'mark');
  child.send('mark');
  return r;
}

ensureBuilt();
const broker = await Broker.start();
const sub = await broker.client();
let delivered = 0;
await sub.subscribeAsync('pitcrew/+/data', { qos: 1 });
sub.on('message', (_t, payload) => {
  const json =
    payload[0] === 0x1f && payload[1] === 0x8b ? gunzipSync(payload).toString() : payload.toString();
  delivered += (JSON.parse(json) as { records: unknown[] }).records.length;
});

// The command's node flags and settings (its shell lines), so memory is what a unit would see.
const node = commandNode();
const child = fork(path.join(import.meta.dirname, '_fleet.mjs'), [broker.url, String(UNITS), String(SCALE)], {
  execArgv: node.execArgv,
  env: { ...process.env, ...node.env },
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
});
const t0 = Date.now();
const before = await reply<{ rss: number }>(child, 'started');
console.log(`${UNITS} agents started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
for (let m = await mark(child); m.connected < UNITS; m = await mark(child)) {
  if (Date.now() - t0 > 60_000) throw new Error(`only ${m.connected} of ${UNITS} agents connected`);
  await wait(200);
}
await wait(10_000); // warm-up: the JIT, the first status messages, the outboxes' first batches

const start = await mark(child);
const d0 = delivered;
const c0 = cpuSeconds(broker.pid!);
const a0 = cpuSeconds(child.pid!);
const w0 = Date.now();
await wait(WINDOW_S * 1000);
const end = await mark(child);
const seconds = (Date.now() - w0) / 1000;
const rate = (delivered - d0) / seconds;
const produced = (delivered - d0 + end.queued - start.queued) / seconds;
const brokerCpu = ((cpuSeconds(broker.pid!) - c0) / seconds) * 100;
const agentsCpu = ((cpuSeconds(child.pid!) - a0) / seconds) * 100;

const stopped = reply(child, 'stopped');
child.send('stop');
await stopped;
await sub.endAsync();
await broker.close();

console.log(
  `${UNITS} units at ${SCALE}× time for ${seconds.toFixed(0)} s: produced ${produced.toFixed(0)} records/s, ` +
    `delivered ${rate.toFixed(0)} records/s (${(rate / produced).toFixed(2)} of it); ` +
    `outboxes ${start.queued} → ${end.queued} records`,
);
console.log(
  `broker CPU ${brokerCpu.toFixed(0)} % of a core, the agents' process ${agentsCpu.toFixed(0)} %; ` +
    `it is ${end.rss.toFixed(0)} MB resident ` +
    `(${before.rss.toFixed(0)} MB before the agents), V8 heap in use ${end.heap.toFixed(0)} MB`,
);
// Keeping up: what was delivered in the window against what the units produced in it.
report('fleet, records delivered of those produced', (rate / produced) * 100, '%', 99, 'higher');
console.log(`memory per unit: ${((end.rss - before.rss) / UNITS).toFixed(2)} MB resident`);
