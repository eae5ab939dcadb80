/**
 * Desired statuses through a real mosquitto, with the installed command on both sides: `pitcrew
 * keygen`, `desired sign`, `desired push` to a running agent, which installs what a good one asks,
 * refuses unsigned, untrusted, tampered, malformed and oversized ones, acknowledges each, and
 * reports the items in the unit status.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Event } from '../../agent/core/bus.js';
import { signEnvelope } from '../../agent/rollout/signing.js';
import { artifactServer } from '../helpers/artifact-server.js';
import { runBin, startCli } from '../helpers/cli.js';
import { Broker } from '../helpers/mosquitto.js';
import { configFile } from '../helpers/tmp.js';
import { tarGz } from '../helpers/updates.js';
import { waitFor } from '../helpers/wait.js';

const tagged = (tag: string) => (l: string) => l.startsWith('{') && (JSON.parse(l) as Event).tag === tag;
type Ack = { messageType: string; status: string; reasons: string[]; sota?: string };
type Item = { id: string; version: string; status: string };

describe('desired status over the cloud link (real broker, installed command)', () => {
  it('installs a signed desired status; refuses bad ones, acking each; items reach the unit status', async () => {
    const broker = await Broker.start();
    after(() => broker.close());
    const http = await artifactServer();
    const { dir, file } = configFile(
      (d) => `version: 1
unit: { id: d-1, data_dir: var }
control: { socket: ${d}/ctl.sock }
status: { window: 200ms }
cloud: { mqtt: { url: "${broker.url}", reconnect: { min: 100ms, max: 1s } } }
updates:
  trust: { keys: [fleet.key.pub] }
  sota: { schedule: { type: force }, installer: { type: directory, root: apps } }
`,
    );
    for (const name of ['fleet.key', 'stranger.key'])
      assert.equal((await runBin(['keygen', '-o', path.join(dir, name)])).code, 0);
    const sub = await broker.client();
    after(() => sub.endAsync());
    const acks: Ack[] = [];
    const services = new Map<string, Item>();
    await sub.subscribeAsync(['pitcrew/d-1/ack', 'pitcrew/d-1/status'], { qos: 1 });
    sub.on('message', (topic, m) => {
      const msg = JSON.parse(m.toString());
      if (topic.endsWith('/ack')) acks.push(msg);
      else for (const s of (msg.services ?? []) as Item[]) services.set(`${s.id}@${s.version}`, s);
    });
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor(tagged('system/cloud/connected'));

    const push = async (envelope: string) => {
      const env = path.join(dir, `e${acks.length}.json`);
      writeFileSync(env, envelope);
      const n = acks.length;
      const pushed = await runBin(['desired', 'push', '--url', broker.url, '--unit', 'd-1', env]);
      assert.equal(pushed.code, 0, pushed.stderr);
      await waitFor(
        () => acks.length > n,
        'the ack',
        () => agent.stderr(),
      );
      return acks.at(-1)!;
    };
    const sign = async (payload: unknown, key = 'fleet.key') => {
      const f = path.join(dir, 'desired.json');
      writeFileSync(f, JSON.stringify(payload));
      const r = await runBin(['desired', 'sign', '-k', path.join(dir, key), f]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    const nav = {
      id: 'nav',
      version: '1.4.0',
      ...http.serve('nav.tgz', tarGz([{ name: 'run', body: 'nav' }])),
    };
    const good = { messageType: 'desiredStatus', services: [nav] };

    const unsigned = await push(JSON.stringify(good));
    assert.equal(unsigned.messageType, 'desiredStatusAck');
    assert.equal(unsigned.status, 'rejected');
    assert.deepEqual(unsigned.reasons, ['rejected: not a signed envelope {payload, signature, key_id}']);
    assert.match(
      (await push(await sign(good, 'stranger.key'))).reasons[0]!,
      /^rejected: key [0-9a-f]{16} is not trusted$/,
    );
    const tampered = JSON.parse(await sign(good)) as { payload: string };
    tampered.payload = Buffer.from(
      Buffer.from(tampered.payload, 'base64').toString().replace('1.4.0', '6.6.6'),
    ).toString('base64');
    assert.match((await push(JSON.stringify(tampered))).reasons[0]!, /signature/);
    // `desired sign` checks the schema, so a malformed payload is signed here directly.
    const fleetKey = readFileSync(path.join(dir, 'fleet.key'), 'utf8');
    const malformedPayload = { messageType: 'desiredStatus', sequence: 1, services: [{ id: 'nav' }] };
    const malformed = await push(
      JSON.stringify(signEnvelope(Buffer.from(JSON.stringify(malformedPayload)), fleetKey)),
    );
    assert.match(malformed.reasons[0]!, /desired status rejected: services\.0\.version/);
    const huge = await push(
      JSON.stringify({ payload: 'A'.repeat(1_100_000), signature: 'AA==', key_id: 'x' }),
    );
    assert.match(huge.reasons[0]!, /over the 1048576 a desired status may have/);
    assert.equal(services.size, 0, 'nothing was applied');

    const ok = await push(await sign(good));
    assert.equal(ok.status, 'accepted');
    assert.equal(ok.sota, 'started');
    await agent.waitFor(tagged('system/update/sota/noUpdate'));
    await waitFor(
      () => services.get('nav@1.4.0')?.status === 'installed',
      'nav installed in the unit status',
    );
    const st = await runBin(['update', 'status', '-c', file]);
    assert.equal(st.code, 0, st.stderr);
    const status = JSON.parse(st.stdout) as {
      sota: { state: string };
      installed: Item[];
      desired: { status: string };
    };
    assert.equal(status.sota.state, 'noUpdate');
    assert.deepEqual(
      status.installed.map((i) => `${i.id}@${i.version}:${i.status}`),
      ['nav@1.4.0:installed'],
    );
    assert.equal(status.desired.status, 'accepted');
  });
});
