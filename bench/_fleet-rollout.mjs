// bench/fleet-rollout's agents: one per config file given, each with the reloader and the bundle
// receiver `pitcrew run` gives it, in this one process on the built code. Says `ready` on stdout
// once every agent's cloud link is up, then runs until killed.
import { loadChecked } from '../dist/agent/config/load.js';
import { BundleReceiver } from '../dist/agent/rollout/bundles.js';
import { Reloader } from '../dist/agent/rollout/reloader.js';
import { createAgent } from '../dist/agent/runtime/agent.js';

const files = process.argv.slice(2);
const agents = [];
for (const file of files) {
  const loaded = await loadChecked(file, {});
  const agent = createAgent(loaded.config);
  const reloader = new Reloader(agent, file, loaded.files, loaded.raw);
  agent
    .use(reloader, 'rollout')
    .use(new BundleReceiver(agent, reloader, loaded.config.rollout.bundles.trust.keys), 'bundles');
  agents.push(agent);
}
await Promise.all(agents.map((a) => a.start()));
while (agents.some((a) => a.status().cloud.state !== 'connected'))
  await new Promise((r) => setTimeout(r, 50));
console.log('ready');
process.on('SIGTERM', async () => {
  await Promise.all(agents.map((a) => a.stop()));
  process.exit(0);
});
