import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One unit of a test fleet: its id, and a `rollout.health` of its own (as YAML flow). */
export interface FleetUnit {
  id: string;
  health?: string;
}

/**
 * Units on one broker, each a whole agent from the built code, in `processes` child processes
 * (test/helpers/fleet-units.mjs, units dealt out in turn), each trusting `keyFile` for bundles.
 */
export async function startFleet(
  dir: string,
  brokerUrl: string,
  keyFile: string,
  units: FleetUnit[],
  processes = 1,
) {
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
  const children = Array.from({ length: processes }, (_, p) =>
    fork(
      path.join(import.meta.dirname, 'fleet-units.mjs'),
      files.filter((_, i) => i % processes === p),
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    ),
  );
  const owner = new Map(units.map((u, i) => [u.id, children[i % processes]!]));
  const reply = (child: ChildProcess, key: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const on = (m: Record<string, unknown>) => {
        if (!(key in m)) return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
      child.once('exit', (code) => reject(new Error(`a fleet process exited (${code})`)));
    });
  const ready = await Promise.all(children.map((c) => reply(c, 'ready')));
  /** Sends `msg` to the process running `id` and waits for its `key` reply. */
  const ask = async (id: string, msg: object, key: string) => {
    const child = owner.get(id)!;
    const r = reply(child, key);
    child.send(msg);
    await r;
  };
  return {
    /** The units' processes' resident memory once all were online, in bytes. */
    rss: ready.reduce((sum, r) => sum + (r.rss as number), 0),
    /** Takes a unit off the broker (a clean stop: its `online` goes false). */
    stop: (id: string) => ask(id, { stop: id }, 'stopped'),
    /** Starts a stopped unit; resolves once it is online. */
    start: (id: string) => ask(id, { start: id }, 'started'),
    close: async () => {
      await Promise.all(
        children.map(async (child) => {
          if (child.exitCode !== null) return;
          const gone = new Promise((r) => child.once('exit', r));
          child.send({ exit: true });
          await gone;
        }),
      );
    },
  };
}
