/** CPU the agent uses on the default config (a simulated car read every second): target < 1 % of a core. */

import { cpuSeconds, ensureBuilt, startAgent, stop, wait } from './_agent-process.js';
import { report } from './_report.js';

const WINDOW_S = 30;
ensureBuilt();
const child = startAgent();
child.stdout!.resume();
await wait(5000); // past startup
const c0 = cpuSeconds(child.pid!);
const t0 = Date.now();
await wait(WINDOW_S * 1000);
const used = cpuSeconds(child.pid!) - c0;
const pct = (used / ((Date.now() - t0) / 1000)) * 100;
await stop(child);
report(`agent CPU over ${WINDOW_S} s on the default config`, pct, '% of a core', 1, 'lower');
