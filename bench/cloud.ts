/**
 * The cloud link end to end, against a local mosquitto this script starts: records pushed through
 * the `cloud` returner (64 workers at once, vehicle-like readings fresh per record) until a
 * subscriber has received and decoded every one of them, in gzip batches, against the same records
 * published one by one (QoS 1, one message each) in the same run. Target ≥ 20,000 records/s.
 * Then, in a child process on the built code bundled as the command is (bench/_offline-queue.mjs), 1,000,000 records queued while the broker is unreachable: RSS sampled
 * as they go in. Target: under 90 MB, flat.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { pino } from 'pino';
import { CloudLink } from '../agent/cloud/cloud-link.js';
import { Outbox } from '../agent/cloud/outbox.js';
import { Bus } from '../agent/core/bus.js';
import { realClock } from '../agent/core/clock.js';
import type { HookContext, ReturnerFn } from '../agent/core/types.js';
import { BUILTIN_HOOKS } from '../agent/hooks/registry.js';
import { Cloud } from '../schemas/cloud.js';
import { BUNDLE_EXTERNAL, BUNDLE_PLUGINS } from '../scripts/bundle-external.js';
import { Broker } from '../test/helpers/mosquitto.js';
import { commandNode, ensureBuilt, ROOT } from './_agent-process.js';
import { report } from './_report.js';
import { records } from './_workload.js';

const RECORDS = 100_000;
const WORKERS = 64;
const result = records(11);

/** The outbox and the link as the agent builds them, and the `cloud` returner writing into them. */
function agentSide(url: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-cloud-'));
  let link: CloudLink | undefined;
  const outbox = new Outbox(
    dir,
    { maxRecords: 10_000_000, maxBytes: 2 ** 40 },
    { onAccepted: () => link?.accepted() },
  );
  link = new CloudLink(Cloud.parse({ mqtt: { url }, outbox: { compression: 'gzip' } }), {
    bus: new Bus(realClock),
    clock: realClock,
    log: pino({ level: 'silent' }),
    outbox,
    unit: { id: 'bench' },
    statusWindow: 30_000,
  });
  const def = BUILTIN_HOOKS.get('cloud')!;
  if (def.kind !== 'returner') throw new Error('cloud is a returner');
  const cloud = def.build({}, { service: 'obd', records: outbox } as unknown as HookContext) as ReturnerFn;
  const close = async () => {
    await link.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { link, outbox, cloud, close };
}

/** Counts records as a consumer would: every batch decompressed and parsed. */
async function consumer(broker: Broker, topic: string) {
  const sub = await broker.client();
  await sub.subscribeAsync(topic, { qos: 1 });
  let n = 0;
  sub.on('message', (_t, payload) => {
    if (payload[0] === 0x1f && payload[1] === 0x8b)
      n += (JSON.parse(gunzipSync(payload).toString()) as { records: unknown[] }).records.length;
    else {
      JSON.parse(payload.toString());
      n++;
    }
  });
  return { count: () => n, close: () => sub.endAsync() };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

async function batched(broker: Broker): Promise<number> {
  const c = await consumer(broker, 'pitcrew/bench/data');
  const a = agentSide(broker.url);
  await a.link.start();
  await until(() => a.link.state().state === 'connected');
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < RECORDS) await a.cloud(result(next++));
    }),
  );
  await until(() => c.count() >= RECORDS);
  const rate = RECORDS / ((performance.now() - t0) / 1000);
  await a.close();
  await c.close();
  return rate;
}

/** The baseline: each record its own QoS 1 message, as many in flight as there are workers. */
async function oneByOne(broker: Broker): Promise<number> {
  const c = await consumer(broker, 'baseline/data');
  const pub = await broker.client();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < RECORDS)
        await pub.publishAsync('baseline/data', JSON.stringify(result(next++)), { qos: 1 });
    }),
  );
  await until(() => c.count() >= RECORDS);
  const rate = RECORDS / ((performance.now() - t0) / 1000);
  await pub.endAsync();
  await c.close();
  return rate;
}

{
  const broker = await Broker.start();
  await batched(broker); // warm-up: the JIT, the broker
  const ours: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < 3; i++) {
    ours.push(await batched(broker));
    base.push(await oneByOne(broker));
  }
  await broker.close();
  const best = (xs: number[]) => xs.sort((x, y) => x - y)[1]!;
  console.log(
    `one message per record (QoS 1, ${WORKERS} in flight): ${(best(base) / 1000).toFixed(1)}k records/s; ` +
      `batched and gzip: ${(best(ours) / 1000).toFixed(1)}k records/s, ${(best(ours) / best(base)).toFixed(1)}x`,
  );
  report(
    'cloud link end to end, gzip batches, to a local broker',
    best(ours) / 1000,
    'k records/s',
    20,
    'higher',
  );
  ensureBuilt();
  // With the node flags and settings the installed command runs with (its shell lines).
  const node = commandNode();
  // Bundled as the command is (one minified file, the same modules outside it): what a unit loads.
  const bundled = path.join(ROOT, 'dist/bench/offline-queue.mjs');
  await build({
    entryPoints: [path.join(import.meta.dirname, '_offline-queue.mjs')],
    outfile: bundled,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external: BUNDLE_EXTERNAL,
    plugins: BUNDLE_PLUGINS,
    // CommonJS dependencies inside an ES module bundle still call require.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  const child = spawnSync(process.execPath, [...node.execArgv, bundled], {
    encoding: 'utf8',
    env: { ...process.env, ...node.env },
  });
  const { samples, queued } = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
    samples: number[];
    queued: number;
  };
  console.log(
    `offline, ${queued} records queued; RSS every 50,000 (MB): ${samples.map((s) => s.toFixed(0)).join(', ')}`,
  );
  report('RSS while 1,000,000 records queue offline', Math.max(...samples), 'MB', 90, 'lower');
}
