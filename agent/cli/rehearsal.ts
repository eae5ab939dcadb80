import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadChecked } from '../config/load.js';
import { ConfigMemo } from '../config/memo.js';
import type { ConfigT } from '../config/schema.js';
import { releaseAsyncScopes } from '../core/async-scope.js';
import { LogSink } from '../core/log-sink.js';
import { jsonLogger } from '../core/logger.js';
import { enabledParts } from '../runtime/extensions.js';
import { buildAgent } from '../runtime/root.js';

/** How long the rehearsal waits for the agent's first reading after its start, at most. */
const FIRST_READING_MS = 5000;

/** Parts whose start stays within the process and its scratch directory. */
const LOCAL_PARTS = new Set(['rollout', 'control.socket', 'systemd', 'storage']);

/**
 * What in `config` reaches outside, if anything: a service other than the simulated car, a cloud
 * link, a part beyond the process (an update manager, the power manager, a metrics port, git). The
 * bundled default config has none; one edited in an install may, and is then loaded and built but
 * not started.
 */
function reachesOutside(config: ConfigT): string | undefined {
  const service = Object.entries(config.services).find(([, s]) => s.driver !== 'sim-vehicle');
  if (service) return `service ${service[0]} (${service[1].driver})`;
  if (config.cloud?.mqtt.url) return 'cloud.mqtt.url';
  return enabledParts(config).find((p) => !LOCAL_PARTS.has(p.key))?.key;
}

/**
 * An agent on `file` built, started (when it keeps to itself) and stopped again, as the startup
 * snapshot is built: what a start runs is then compiled in the blob, where each function a start
 * compiles itself costs it its parse and bytecode (~9 ms of a start from the snapshot,
 * bench/startup). It runs until its first reading after the start, in a scratch directory removed
 * after it, its logs written nowhere, the environment only its own (a service's NOTIFY_SOCKET, say,
 * is not its business), and its databases hold nothing: no addon loads while a snapshot is built
 * (snapshot-entry.cjs). Says what it did.
 */
export async function rehearseStart(file: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-rehearsal-'));
  const fd = openSync('/dev/null', 'w');
  const sink = new LogSink(fd);
  try {
    const env = {
      PITCREW_DATA_DIR: path.join(dir, 'var'),
      PITCREW_CONTROL_SOCKET: path.join(dir, 'ctl.sock'),
    };
    const memo = new ConfigMemo();
    const loaded = await loadChecked(file, env, { memo });
    const agent = await buildAgent(loaded.config, {
      logger: jsonLogger(loaded.config.log.level, sink),
      baseDir: path.dirname(file),
      origin: { file, files: loaded.files, raw: loaded.raw, memo },
      env,
    });
    const outside = reachesOutside(loaded.config);
    if (outside) return `${file} loaded, its agent not started: ${outside} reaches outside`;
    await agent.start();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, FIRST_READING_MS);
      const off = agent.bus.on('vehicle/#', done);
      function done() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
    await agent.stop();
    return `a start of ${file} rehearsed`;
  } finally {
    await sink.settled();
    releaseAsyncScopes();
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
