/** Startup: from process start to the first `vehicle/…` event on the default config. Target < 300 ms. */
import { performance } from 'node:perf_hooks';
import { ensureBuilt, startAgent, stop } from './_agent-process.js';
import { median, report } from './_report.js';

ensureBuilt();
const times: number[] = [];
for (let i = 0; i < 7; i++) {
  const t0 = performance.now();
  const child = startAgent();
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      if (buf.includes('{"tag":"vehicle/')) {
        times.push(performance.now() - t0);
        resolve();
      }
    });
    child.once('exit', () => reject(new Error('agent exited before any vehicle event')));
  });
  await stop(child);
}
report(
  'startup to first vehicle event (compiled, default config), median of 7',
  median(times),
  'ms',
  300,
  'lower',
);
