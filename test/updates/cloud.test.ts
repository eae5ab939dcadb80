/**
 * Desired statuses through a real mosquitto, with the installed command on both sides: `pitcrew
 * keygen`, `desired sign`, `desired push` to a running agent, which installs what a good one asks,
 * refuses unsigned, untrusted, tampered, malformed and oversized ones, acknowledges each, and
 * reports the items in the unit status.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { signEnvelope } from '../../agent/rollout/signing.js';
import { runBin } from '../helpers/cli.js';
import { desiredUnit, tagged } from '../helpers/desired-unit.js';
import { tarGz } from '../helpers/updates.js';
import { waitFor } from '../helpers/wait.js';

type Item = { id: string; version: string; status: string };

describe('desired status over the cloud link (real broker, installed command)', () => {
  it('installs a signed desired status; refuses bad ones, acking each; items reach the unit status', async () => {
    const { http, dir, file, agent, statuses, push, sign } = await desiredUnit(
      'd-1',
      () => 'sota: { schedule: { type: force }, installer: { type: directory, root: apps } }',
      { keys: ['fleet.key', 'stranger.key'] },
    );
    const services = () => statuses.flatMap((m) => (m.services ?? []) as Item[]);
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
    assert.equal(services().length, 0, 'nothing was applied');

    const ok = await push(await sign(good));
    assert.equal(ok.status, 'accepted');
    assert.equal(ok.sota, 'started');
    await agent.waitFor(tagged('system/update/sota/noUpdate'));
    await waitFor(
      () => services().some((i) => i.id === 'nav' && i.version === '1.4.0' && i.status === 'installed'),
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
