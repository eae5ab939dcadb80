// bench/fleet's agents: N agents on the default config in this one process, on the built code and
// with the command's node flags, each its own unit (id, data_dir, simulated car with its own seed)
// on one broker, all time sped up. The parent asks over IPC for `mark` (records queued in the
// outboxes, RSS, heap) and `stop`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfigSync } from '../dist/agent/config/load.js';
import { scaledClock } from '../dist/agent/core/clock.js';
import { createAgent } from '../dist/agent/runtime/agent.js';

const [url, units, scale] = process.argv.slice(2);
const CONFIG = path.join(import.meta.dirname, '../config/pitcrew.yaml');
const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-fleet-'));
const mb = (n) => n / 1024 ** 2;
const mark = () => {
  const m = process.memoryUsage();
  let queued = 0;
  let connected = 0;
  for (const a of agents) {
    const s = a.status();
    queued += s.outbox?.queued ?? 0;
    if (s.cloud?.state === 'connected') connected++;
  }
  return { queued, connected, rss: mb(m.rss), heap: mb(m.heapUsed) };
};

const agents = [];
const before = { rss: mb(process.memoryUsage().rss) };
const clock = scaledClock(Number(scale));
for (let i = 0; i < Number(units); i++) {
  const id = `fleet-${String(i).padStart(3, '0')}`;
  const { config } = loadConfigSync(CONFIG, {
    PITCREW_UNIT_ID: id,
    PITCREW_DATA_DIR: path.join(dir, id),
    PITCREW_MQTT_URL: url,
    PITCREW_SIM_SEED: String(1000 + i),
  });
  agents.push(createAgent(config, { clock, baseDir: path.dirname(CONFIG) }));
}
await Promise.all(agents.map((a) => a.start()));
process.send({ started: before });
process.on('message', async (msg) => {
  if (msg === 'mark') process.send({ mark: mark() });
  if (msg === 'stop') {
    await Promise.all(agents.map((a) => a.stop()));
    rmSync(dir, { recursive: true, force: true });
    process.send({ stopped: true });
    process.disconnect();
  }
});
