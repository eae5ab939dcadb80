/**
 * A rule-only config change with 1,000 rules loaded (the workload's rules, every shape), while
 * events flow through the bus (10 every millisecond the timer gets): the time from writing the file to the new rules
 * being active (file watch, load, full validation, diff, swap), and how many events a counting
 * rule missed or saw twice across the changes (must be 0). Target: < 50 ms.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadChecked } from '../agent/config/load.js';
import { Reloader } from '../agent/rollout/reloader.js';
import { Agent } from '../agent/runtime/agent.js';
import { median, report } from './_report.js';
import { rawRules } from './_workload.js';

const CHANGES = 7;
const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-reload-'));
const file = path.join(dir, 'pitcrew.yaml');
const { rules } = rawRules(1000);
const write = (change: number) => {
  // A rule-only change: one rule's action differs each time; every other rule is unchanged.
  const changed = rules.map((r, i) =>
    i === 0 ? { ...r, do: [{ emit: { tag: `out/changed${change}` } }] } : r,
  );
  const config = {
    version: 1,
    unit: { id: 'bench', data_dir: path.join(dir, 'var') },
    control: { socket: path.join(dir, 'ctl.sock') },
    rollout: { watch: true, debounce: '0ms' },
    reactor: { rules: [{ name: 'count', on: 'load/tick', do: [{ emit: { tag: 'counted' } }] }, ...changed] },
  };
  writeFileSync(file, JSON.stringify(config));
};

write(0);
const loaded = await loadChecked(file);
const agent = new Agent(loaded.config, { baseDir: dir });
const reloader = new Reloader(
  agent.context(loaded.config.rollout, { file, files: loaded.files, raw: loaded.raw }),
);
agent.use(reloader, 'rollout');
await agent.start();
let emitted = 0;
let counted = 0;
agent.bus.on('counted', () => {
  counted++;
});
const pump = setInterval(() => {
  for (let i = 0; i < 10; i++) {
    agent.emit('load/tick');
    emitted++;
  }
}, 1);
let applied: () => void = () => {};
agent.bus.on('system/config/applied', () => applied());
const times: number[] = [];
for (let c = 1; c <= CHANGES; c++) {
  await new Promise((r) => setTimeout(r, 300));
  const done = new Promise<void>((r) => {
    applied = r;
  });
  const t0 = performance.now();
  write(c);
  await done;
  times.push(performance.now() - t0);
}
clearInterval(pump);
await new Promise((r) => setTimeout(r, 50));
await agent.stop();
rmSync(dir, { recursive: true, force: true });
console.log(
  `file change to new rules active, 1,000 rules: ${times.map((t) => t.toFixed(0)).join(', ')} ms; ` +
    `${emitted} events during ${CHANGES} changes, ${counted} counted (${emitted - counted} lost or doubled)`,
);
report('rule-only change with 1,000 rules, file written to rules active', median(times), 'ms', 50, 'lower');
console.log(
  `events lost or handled twice across the changes: ${Math.abs(emitted - counted)} (must be 0) ${emitted === counted ? 'OK' : 'MISSED'}`,
);
if (emitted !== counted) process.exitCode = 1;
