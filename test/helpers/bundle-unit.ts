import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { runBin, startCli } from './cli.js';
import { tagged } from './desired-unit.js';
import { Broker } from './mosquitto.js';
import { tmpDir } from './tmp.js';
import { waitFor } from './wait.js';

type Cli = ReturnType<typeof startCli>;

export type BundleAck = { version: number | null; status: string; errors: string[] };

/**
 * A unit taking signed bundles from a fleet key, through the installed command, on a real broker:
 * `config(extra)` (re)writes its config file with `extra` after the bundle settings; `start` and
 * `restart` run it; `push` sends a signed envelope and resolves with the unit's ack. `rollout`: more
 * of the rollout section (another source beside the bundles).
 */
export async function bundleUnit(id: string, extra = '', rollout = '') {
  const broker = await Broker.start();
  after(() => broker.close());
  const dir = tmpDir();
  const key = path.join(dir, 'fleet.key');
  assert.equal((await runBin(['keygen', '-o', key])).code, 0);
  const file = path.join(dir, 'pitcrew.yaml');
  const config = (more = extra) =>
    writeFileSync(
      file,
      `version: 1
unit: { id: ${id}, data_dir: var }
control: { socket: ${dir}/ctl.sock }
cloud: { mqtt: { url: "${broker.url}", reconnect: { min: 100ms, max: 1s } } }
rollout: { bundles: { trust: { keys: [fleet.key.pub] } }${rollout ? `, ${rollout}` : ''} }
${more}`,
    );
  config();
  const sub = await broker.client();
  after(() => sub.endAsync());
  const acks: BundleAck[] = [];
  await sub.subscribeAsync(`pitcrew/${id}/ack`, { qos: 1 });
  sub.on('message', (_t, m) => acks.push(JSON.parse(m.toString())));
  let agent: Cli | undefined;
  after(() => agent?.child.kill('SIGKILL'));
  const unit = {
    dir,
    file,
    url: broker.url,
    key,
    config,
    get agent(): Cli {
      return agent!;
    },
    async start() {
      agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
      await agent.waitFor(tagged('system/cloud/connected'));
    },
    async stop() {
      agent!.child.kill('SIGTERM');
      assert.equal(await agent!.exited, 0);
    },
    async restart() {
      await unit.stop();
      await unit.start();
    },
    /** Signs `what` (a bundle file or directory) with the fleet key: the envelope's text. */
    async sign(what: string) {
      const signed = await runBin(['bundle', 'sign', '-k', key, what]);
      assert.equal(signed.code, 0, signed.stderr);
      return signed.stdout;
    },
    async push(envelope: string): Promise<BundleAck> {
      const env = path.join(dir, 'envelope.json');
      writeFileSync(env, envelope);
      // Counted before the push: its ack may arrive before the push command has exited.
      const n = acks.length;
      assert.equal((await runBin(['bundle', 'push', '--url', broker.url, '--unit', id, env])).code, 0);
      await waitFor(
        () => acks.length > n,
        'the ack',
        () => agent!.stderr(),
      );
      return acks.at(-1)!;
    },
  };
  await unit.start();
  return unit;
}
