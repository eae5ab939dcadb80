/**
 * A fleet taking a rule bundle: 200 agents (PITCREW_FLEET_UNITS) in one process on the built code,
 * each with its own config, data directory and trusted key, on one local mosquitto. A bundle is
 * signed once and sent to every unit's `<prefix>/config`; printed: the time until every agent has
 * acknowledged `applied`. Then a second bundle, with one unit in ten given a version whose new
 * service fails (its health check reverts it): the time until 90 % acknowledged `applied` and
 * 10 % `reverted`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { keygen, signEnvelope } from '../agent/rollout/signing.js';
import { Broker } from '../test/helpers/mosquitto.js';
import { CLI, ensureBuilt } from './_agent-process.js';

const UNITS = Number(process.env.PITCREW_FLEET_UNITS ?? 200);
const HEALTH_WINDOW_MS = 2000;

ensureBuilt();
const broker = await Broker.start();
const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-fleet-rollout-'));
const key = keygen();
writeFileSync(path.join(dir, 'fleet.key.pub'), key.publicKey);
const units = Array.from({ length: UNITS }, (_, i) => `unit-${String(i).padStart(3, '0')}`);
const files = units.map((id) => {
  const home = path.join(dir, id);
  mkdirSync(home);
  const file = path.join(home, 'pitcrew.yaml');
  writeFileSync(
    file,
    `version: 1
unit: { id: ${id}, data_dir: ${home}/var }
control: { socket: ${home}/ctl.sock }
cloud: { mqtt: { url: "${broker.url}" } }
rollout: { bundles: { trust: { keys: [${dir}/fleet.key.pub] } }, health: { window: ${HEALTH_WINDOW_MS}ms } }
services:
  obd: { driver: sim-vehicle, settings: { seed: ${id.length} } }
`,
  );
  return file;
});

const flags = readFileSync(CLI, 'utf8')
  .split('\n')[0]!
  .split(' ')
  .filter((a) => a.startsWith('--'));
const child = spawn(
  process.execPath,
  [...flags, path.join(import.meta.dirname, '_fleet-rollout.mjs'), ...files],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
await new Promise<void>((resolve) =>
  child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()),
);

const sub = await broker.client();
const acks = new Map<string, { version: number; status: string }>();
await sub.subscribeAsync('pitcrew/+/ack', { qos: 1 });
sub.on('message', (topic, m) => acks.set(topic.split('/')[1]!, JSON.parse(m.toString())));
const pub = await broker.client();

const bundle = (version: number, rules: string, services?: object) =>
  JSON.stringify(
    signEnvelope(
      Buffer.from(JSON.stringify({ version, rules: JSON.parse(rules), ...(services ? { services } : {}) })),
      key.privatePem,
    ),
  );

async function roll(envelopes: (id: string, i: number) => string, done: () => boolean): Promise<number> {
  acks.clear();
  const t0 = performance.now();
  await Promise.all(
    units.map((id, i) => pub.publishAsync(`pitcrew/${id}/config`, envelopes(id, i), { qos: 1 })),
  );
  while (!done()) await new Promise((r) => setTimeout(r, 10));
  return performance.now() - t0;
}
const count = (status: string, version: number) =>
  [...acks.values()].filter((a) => a.status === status && a.version === version).length;

const good = bundle(
  1,
  '[{"name":"overspeed","on":"vehicle/obd/speed","when":{">":[{"var":"event.data.value"},110]},"do":[{"emit":{"tag":"alert/overspeed"}}]}]',
);
const first = await roll(
  () => good,
  () => count('applied', 1) === UNITS,
);
const flaky = path.resolve(import.meta.dirname, '../test/fixtures/modules/flaky.mjs');
const v2 = bundle(
  2,
  '[{"name":"overspeed","on":"vehicle/obd/speed","when":{">":[{"var":"event.data.value"},100]},"do":[{"emit":{"tag":"alert/overspeed"}}]}]',
);
const v2bad = bundle(2, '[]', {
  sensor: { driver: 'module', settings: { module: flaky }, restart: { delay: '10s' } },
});
const bad = Math.round(UNITS / 10);
const second = await roll(
  (_id, i) => (i % 10 === 0 ? v2bad : v2),
  () => count('applied', 2) === UNITS - bad && count('reverted', 2) === bad,
);

child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await sub.endAsync();
await pub.endAsync();
await broker.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  `a signed bundle to ${UNITS} agents on one broker: every one acknowledged applied after ${first.toFixed(0)} ms`,
);
console.log(
  `a second bundle, ${bad} of them failing their ${HEALTH_WINDOW_MS} ms health check: ${UNITS - bad} applied and ${bad} reverted after ${second.toFixed(0)} ms`,
);
