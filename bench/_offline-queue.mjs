// bench/cloud's second half, on the built code (dist/) bundled as the command is, so RSS is the agent's and not
// a TypeScript loader's: 1,000,000 records pushed through the `cloud` returner into the outbox while
// the broker is unreachable; prints RSS samples (MB) as one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { slowHeapGrowth } from '../dist/agent/cli/heap-growth.js';
import { CloudLink } from '../dist/agent/cloud/cloud-link.js';
import { Outbox } from '../dist/agent/cloud/outbox.js';
import { Bus } from '../dist/agent/core/bus.js';
import { realClock } from '../dist/agent/core/clock.js';
import { BUILTIN_HOOKS } from '../dist/agent/hooks/registry.js';
import { Cloud } from '../dist/schemas/cloud.js';

const TOTAL = 1_000_000;
const WORKERS = 64;
const TYPES = ['rpm', 'speed', 'coolant_temp', 'throttle_pos', 'voltage'];
const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-offline-'));
let link;
const outbox = new Outbox(
  dir,
  { maxRecords: 10_000_000, maxBytes: 2 ** 40 },
  { onAccepted: () => link?.accepted() },
);
link = new CloudLink(Cloud.parse({ mqtt: { url: 'mqtt://127.0.0.1:9' } }), {
  bus: new Bus(realClock),
  clock: realClock,
  log: pino({ level: 'silent' }),
  outbox,
  unit: { id: 'bench' },
  statusWindow: 30_000,
});
await link.start();
await slowHeapGrowth(); // as `pitcrew run` does once started
const cloud = BUILTIN_HOOKS.get('cloud').build({}, { service: 'obd', records: outbox });
const samples = [];
let next = 0;
await Promise.all(
  Array.from({ length: WORKERS }, async () => {
    while (next < TOTAL) {
      if (next % 50_000 === 0) samples.push(process.memoryUsage().rss / 1024 ** 2);
      const i = next++;
      await cloud({ type: TYPES[i % TYPES.length], value: Math.random() * 500, unit: 'x', ts: Date.now() });
    }
  }),
);
samples.push(process.memoryUsage().rss / 1024 ** 2);
const queued = outbox.size;
await link.stop();
outbox.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ samples, queued }));
