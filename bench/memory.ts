/** Resident memory after one simulated hour (the default config at speedup 60, one minute): target < 80 MB. */

import { ensureBuilt, rssMB, startAgent, stop, wait } from './_agent-process.js';
import { report } from './_report.js';

ensureBuilt();
const child = startAgent({ PITCREW_SIM_SPEEDUP: '60' });
let events = 0;
child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
  events += chunk.split('\n').length - 1;
});
const samples: number[] = [];
for (let s = 0; s < 60; s += 10) {
  await wait(10_000);
  samples.push(rssMB(child.pid!));
}
await stop(child);
console.log(`RSS every 10 s (MB): ${samples.map((m) => m.toFixed(1)).join(', ')}; ${events} events`);
report('RSS after one simulated hour at speedup 60', samples.at(-1)!, 'MB', 80, 'lower');
