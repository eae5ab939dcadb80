// Many units in this one process, each a whole agent from the built command's code (the parts
// `pitcrew run` composes from the config: cloud link, reloader, bundle receiver …), as
// bench/fleet-rollout and the fleet tests run them. One config file per unit in argv. Says
// {ready} over IPC once every unit is online; `{stop: id}` stops a unit (its broker link goes down
// cleanly, `online` false), `{start: id}` starts it again; `{exit: true}` stops them all.
import path from 'node:path';
import { loadChecked } from '../../dist/agent/config/load.js';
import { silentLogger } from '../../dist/agent/core/logger.js';
import { buildAgent } from '../../dist/agent/runtime/root.js';

const files = process.argv.slice(2);
const agents = new Map();

async function start(file) {
  const loaded = await loadChecked(file);
  const agent = await buildAgent(loaded.config, {
    logger: silentLogger,
    baseDir: path.dirname(file),
    origin: { file, files: loaded.files, raw: loaded.raw },
  });
  await agent.start();
  agents.set(loaded.config.unit.id, { agent, file });
  return agent;
}

const online = (a) => a.status().cloud?.state === 'connected';
async function whenOnline(list) {
  while (!list.every(online)) await new Promise((r) => setTimeout(r, 20));
}

// A few at a time: a thousand SQLite files and broker connections opened at once only queue up.
const BATCH = 25;
for (let i = 0; i < files.length; i += BATCH) await Promise.all(files.slice(i, i + BATCH).map(start));
await whenOnline([...agents.values()].map((u) => u.agent));
process.send({ ready: agents.size, rss: process.memoryUsage().rss });

process.on('message', async (m) => {
  if (m.stop) {
    await agents.get(m.stop).agent.stop();
    process.send({ stopped: m.stop });
  }
  if (m.start) {
    const agent = await start(agents.get(m.start).file);
    await whenOnline([agent]);
    process.send({ started: m.start });
  }
  if (m.exit) {
    await Promise.all([...agents.values()].map((u) => u.agent.stop().catch(() => {})));
    process.exit(0);
  }
});
