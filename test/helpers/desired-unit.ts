import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import type { Event } from '../../agent/core/bus.js';
import { UnitStatus, type UnitStatusT } from '../../schemas/wire.js';
import { artifactServer } from './artifact-server.js';
import { runBin, startCli } from './cli.js';
import { Broker } from './mosquitto.js';
import { configFile } from './tmp.js';
import { waitFor } from './wait.js';

export const tagged = (tag: string) => (l: string) =>
  l.startsWith('{') && (JSON.parse(l) as Event).tag === tag;

export type Ack = Record<string, unknown> & { status: string; reasons: string[] };

/**
 * A unit taking desired statuses from a real mosquitto, run as installed (`pitcrew run --events`),
 * and the fleet's side through the installed command too: keys from `pitcrew keygen`, `desired
 * sign`, `desired push`, and a subscriber keeping the unit's acks and statuses, every status
 * checked against the unit-status schema. `updates` is the config's `updates` section after
 * `trust` (which trusts `fleet.key.pub`); `$DIR`-like paths come from the directory given to it.
 */
export async function desiredUnit(
  unit: string,
  updates: (dir: string) => string,
  opts: { keys?: string[]; window?: string } = {},
) {
  const broker = await Broker.start();
  after(() => broker.close());
  const http = await artifactServer();
  const { dir, file } = configFile(
    (d) => `version: 1
unit: { id: ${unit}, data_dir: var }
control: { socket: ${d}/ctl.sock }
cloud: { mqtt: { url: "${broker.url}", reconnect: { min: 100ms, max: 1s } } }
status: { window: ${opts.window ?? '200ms'} }
updates:
  trust: { keys: [fleet.key.pub] }
${updates(d).replace(/^/gm, '  ')}
`,
  );
  for (const name of opts.keys ?? ['fleet.key'])
    assert.equal((await runBin(['keygen', '-o', path.join(dir, name)])).code, 0);
  const sub = await broker.client();
  after(() => sub.endAsync());
  const acks: Ack[] = [];
  const statuses: UnitStatusT[] = [];
  await sub.subscribeAsync([`pitcrew/${unit}/ack`, `pitcrew/${unit}/status`], { qos: 1 });
  sub.on('message', (topic, m) => {
    const msg = JSON.parse(m.toString());
    if (topic.endsWith('/status')) statuses.push(UnitStatus.parse(msg));
    else acks.push(msg);
  });
  const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
  after(() => agent.child.kill('SIGKILL'));
  await agent.waitFor(tagged('system/cloud/connected'));

  /** Pushes an envelope as it is (signed or not) and resolves with the unit's ack. */
  const push = async (envelope: string) => {
    const env = path.join(dir, `e${acks.length}.json`);
    writeFileSync(env, envelope);
    const n = acks.length;
    const pushed = await runBin(['desired', 'push', '--url', broker.url, '--unit', unit, env]);
    assert.equal(pushed.code, 0, pushed.stderr);
    await waitFor(
      () => acks.length > n,
      'the ack',
      () => agent.stderr(),
    );
    return acks.at(-1)!;
  };
  /** `pitcrew desired sign` of a payload with one of the keys. */
  const sign = async (payload: unknown, key = 'fleet.key') => {
    const f = path.join(dir, 'desired.json');
    writeFileSync(f, JSON.stringify(payload));
    const r = await runBin(['desired', 'sign', '-k', path.join(dir, key), f]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  return { broker, http, dir, file, agent, acks, statuses, push, sign };
}
