import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One unit of a test fleet: its id, and a `rollout.health` of its own (as YAML flow). */
export interface FleetUnit {
  id: string;
  health?: string;
}

/**
 * Units on one broker, each a whole agent from the built code, all in one child process
 * (test/helpers/fleet-units.mjs), each trusting `keyFile` for bundles.
 */
export async function startFleet(dir: string, brokerUrl: string, keyFile: string, units: FleetUnit[]) {
  const files = units.map((u) => {
    const home = path.join(dir, u.id);
    mkdirSync(home, { recursive: true });
    const file = path.join(home, 'pitcrew.yaml');
    writeFileSync(
      file,
      `version: 1
unit: { id: ${u.id}, data_dir: ${home}/var }
control: { socket: ${home}/ctl.sock }
cloud: { mqtt: { url: "${brokerUrl}" } }
rollout: { bundles: { trust: { keys: [${keyFile}] } }${u.health ? `, health: ${u.health}` : ''} }
`,
    );
    return file;
  });
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'fleet-units.mjs'), files, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const reply = (key: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const on = (m: Record<string, unknown>) => {
        if (!(key in m)) return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
      child.once('exit', (code) => reject(new Error(`the fleet process exited (${code})`)));
    });
  const ready = await reply('ready');
  return {
    rss: ready.rss as number,
    /** Takes a unit off the broker (a clean stop: its `online` goes false). */
    stop: async (id: string) => {
      const r = reply('stopped');
      child.send({ stop: id });
      await r;
    },
    /** Starts a stopped unit; resolves once it is online. */
    start: async (id: string) => {
      const r = reply('started');
      child.send({ start: id });
      await r;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.send({ exit: true });
      await gone;
    },
  };
}
