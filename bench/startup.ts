/**
 * Startup: from process start to the first `vehicle/…` event on the default config, and the agent's
 * own share of it: that time less a bare `node -e 0` measured in the same run (this machine's start
 * of any Node process varies minute to minute). Targets: < 300 ms in all, own share < 60 ms. The
 * installed command starts from its V8 startup snapshot; the same command without it (the bundle
 * loaded, PITCREW_SNAPSHOT=off) is measured beside it. Each start is a first boot (a fresh data
 * dir: its databases created); a restart over a kept data dir, as a unit usually starts, is
 * measured beside it. The default config's parsing and validation is measured on its own, in a
 * fresh process as at a start.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, ROOT, startAgent, stop } from './_agent-process.js';
import { median, report } from './_report.js';

const RUNS = 11;

/** From spawn to the first vehicle event; `dataDir`: a kept data directory, else a fresh one. */
async function firstVehicleEvent(dataDir?: string, env: Record<string, string> = {}): Promise<number> {
  const t0 = performance.now();
  const child = startAgent({
    ...(dataDir ? { PITCREW_DATA_DIR: dataDir, PITCREW_CONTROL_SOCKET: path.join(dataDir, 'ctl.sock') } : {}),
    ...env,
  });
  const ms = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      if (buf.includes('{"tag":"vehicle/')) resolve(performance.now() - t0);
    });
    child.once('exit', () => reject(new Error('agent exited before any vehicle event')));
  });
  await stop(child);
  return ms;
}

/** A bare `node -e 0` in the same run: how fast this machine starts any Node process right now. */
function bareNode(): number {
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return performance.now() - t0;
}

/** Loading and checking the default config in a fresh process: the first load (its code cold, as at a start), then again. */
function configLoad(): { cold: number; warm: number } {
  const load = pathToFileURL(path.join(ROOT, 'dist/agent/config/load.js')).href;
  const file = path.join(ROOT, 'config/pitcrew.yaml');
  const script = `const { loadChecked } = await import(${JSON.stringify(load)});
    let t = performance.now(); await loadChecked(${JSON.stringify(file)}); const cold = performance.now() - t;
    t = performance.now(); await loadChecked(${JSON.stringify(file)});
    console.log(JSON.stringify({ cold, warm: performance.now() - t }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { cold: number; warm: number };
}

ensureBuilt();
const kept = mkdtempSync(path.join(tmpdir(), 'pitcrew-bench-kept-'));
await firstVehicleEvent(kept); // fills the compile cache, as any run after the first finds it; creates the kept data dir
const BUNDLE = { PITCREW_SNAPSHOT: 'off' };
await firstVehicleEvent(undefined, BUNDLE); // the bundle's compile cache filled too
const times: number[] = [];
const bundled: number[] = [];
const restarts: number[] = [];
const bare: number[] = [];
for (let i = 0; i < RUNS; i++) {
  times.push(await firstVehicleEvent());
  bundled.push(await firstVehicleEvent(undefined, BUNDLE));
  restarts.push(await firstVehicleEvent(kept));
  bare.push(bareNode());
}
console.log(`bare node -e 0 on this machine, same run: median ${median(bare).toFixed(0)} ms`);
console.log(
  `the same command without its startup snapshot (the bundle loaded), median of ${RUNS}: ${median(bundled).toFixed(0)} ms in all, ` +
    `own share ${(median(bundled) - median(bare)).toFixed(0)} ms; the snapshot's start takes ` +
    `${(((median(times) - median(bare)) / (median(bundled) - median(bare))) * 100).toFixed(0)} % of its own share`,
);
report(
  "startup, the agent's own share (first vehicle event less a bare node start, same run)",
  median(times) - median(bare),
  'ms',
  60,
  'lower',
);
report(
  `startup to first vehicle event (the installed command, default config), median of ${RUNS}`,
  median(times),
  'ms',
  300,
  'lower',
);
console.log(
  `a restart over a kept data dir (its databases in place), median of ${RUNS}: ${median(restarts).toFixed(0)} ms in all, ` +
    `own share ${(median(restarts) - median(bare)).toFixed(0)} ms`,
);
const loads = Array.from({ length: 5 }, configLoad);
console.log(
  `the default config parsed and validated, in a fresh process: first load ${median(loads.map((l) => l.cold)).toFixed(0)} ms, ` +
    `again ${median(loads.map((l) => l.warm)).toFixed(1)} ms (medians of 5; part of the start above)`,
);
