/**
 * Memory over a long drive: the default config with everything sped up (`--time-scale 60`: the
 * simulated car, the workers, the rules, an hour a minute) for 5 minutes, RSS sampled every 10 s.
 * Targets: under 72 MB, and flat (the slope over the last 3 minutes under 0.5 MB a minute). The
 * installed command starts from its startup snapshot; the same command without it (the bundle
 * loaded, PITCREW_SNAPSHOT=off) runs beside it, sampled at the same moments, and so does the floor:
 * a bare node under the command's flags and settings, idle.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from '../agent/control/client.js';
import { commandNode, ensureBuilt, rssMB, startAgent, statusMB, stop, wait } from './_agent-process.js';
import { report } from './_report.js';

const MINUTES = Number(process.env.PITCREW_BENCH_MINUTES ?? 5);
ensureBuilt();

/** One agent at 60x, its stdout lines counted. */
function drive(env: Record<string, string> = {}) {
  const socket = path.join(mkdtempSync(path.join(tmpdir(), 'pitcrew-mem-')), 'ctl.sock');
  const child = startAgent({ PITCREW_CONTROL_SOCKET: socket, ...env }, ['--time-scale', '60']);
  const seen = { events: 0, samples: [] as number[] };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    seen.events += chunk.split('\n').length - 1;
  });
  return { child, socket, seen };
}

/** Resident memory by kind, in MB: anonymous (heaps, malloc) and file-backed (the binary, libraries). */
const split = (pid: number) => ({ anon: statusMB(pid, 'RssAnon'), file: statusMB(pid, 'RssFile') });

const installed = drive();
const bundle = drive({ PITCREW_SNAPSHOT: 'off' });
const { env, execArgv } = commandNode();
const bare = spawn(process.execPath, [...execArgv, '-e', 'setInterval(() => {}, 1000)'], {
  env: { ...process.env, ...env },
  stdio: 'ignore',
});
const bareSamples: number[] = [];
for (let s = 0; s < MINUTES * 60; s += 10) {
  await wait(10_000);
  for (const a of [installed, bundle]) a.seen.samples.push(rssMB(a.child.pid!));
  bareSamples.push(rssMB(bare.pid!));
}
const agentParts = split(installed.child.pid!);
const bundleParts = split(bundle.child.pid!);
const bareParts = split(bare.pid!);
const last = (await request(installed.socket, 'status')) as {
  ok: true;
  result: { memory: Record<string, number> };
};
await Promise.all([stop(installed.child), stop(bundle.child), stop(bare)]);

/** Least-squares slope of the samples (10 s apart), in MB per minute. */
function slope(ys: number[]): number {
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, i) => {
    num += (i - mx) * (y - my);
    den += (i - mx) ** 2;
  });
  return (num / den) * 6;
}
const { samples, events } = installed.seen;
console.log(
  `at the end: ${JSON.stringify(last.result.memory)} (MB: resident, V8 heap in use, outside the heap)`,
);
console.log(
  `RSS every 10 s (MB): ${samples.map((m) => m.toFixed(1)).join(', ')}; ${events} events in ${MINUTES * 60} simulated minutes`,
);
console.log(
  `RSS after the first minute (startup's transient past): most ${Math.max(...samples.slice(6)).toFixed(1)} MB`,
);
console.log(
  `the same command without its startup snapshot, beside it: most ${Math.max(...bundle.seen.samples).toFixed(1)} MB ` +
    `(every 10 s: ${bundle.seen.samples.map((m) => m.toFixed(0)).join(', ')})`,
);
const kinds = (p: ReturnType<typeof split>) =>
  `${p.anon.toFixed(1)} anonymous + ${p.file.toFixed(1)} file-backed`;
console.log(
  `the floor, a bare node under the command's flags, idle, beside them: most ${Math.max(...bareSamples).toFixed(1)} MB; ` +
    `at the end (MB): the agent ${kinds(agentParts)}, without its snapshot ${kinds(bundleParts)}, the bare node ${kinds(bareParts)}`,
);
report(
  `RSS, most over ${MINUTES} simulated hours (everything at 60x)`,
  Math.max(...samples),
  'MB',
  72,
  'lower',
);
report('RSS slope over the last 3 minutes', slope(samples.slice(-18)), 'MB/min', 0.5, 'lower');
