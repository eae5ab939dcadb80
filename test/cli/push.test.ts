/**
 * `bundle push` and `desired push` reach a broker as fleets run them: mutual TLS and credentials,
 * the topic prefix written as a unit's `cloud.topic_prefix`. Through the built command, against a
 * real mosquitto.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { certificates } from '../helpers/certs.js';
import { startCli } from '../helpers/cli.js';
import { Broker } from '../helpers/mosquitto.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

async function pitcrew(args: string[], env: NodeJS.ProcessEnv = {}) {
  const c = startCli(args, { runner: 'bin', env });
  const code = await c.exited;
  return { code, stdout: c.lines.join('\n'), stderr: c.stderr() };
}

describe('pushing signed messages to a unit', () => {
  it('goes over mutual TLS with a user and password, to the prefix the unit uses', async () => {
    const dir = tmpDir();
    const certs = certificates(dir);
    const broker = await Broker.start({ tls: { ca: certs.ca, ...certs.server }, users: { fleet: 's3cret' } });
    after(() => broker.close());
    const tls = {
      ca: readFileSync(certs.ca),
      cert: readFileSync(certs.client.cert),
      key: readFileSync(certs.client.key),
    };
    const sub = await broker.client({ ...tls, username: 'fleet', password: 's3cret' });
    after(() => sub.endAsync());
    const got: { topic: string; payload: string }[] = [];
    sub.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
    await sub.subscribeAsync('#', { qos: 1 });

    assert.equal((await pitcrew(['keygen', '-o', path.join(dir, 'k')])).code, 0);
    const desired = path.join(dir, 'desired.yaml');
    writeFileSync(desired, 'messageType: desiredStatus\ncomponents: []\nservices: []\nlayers: []\n');
    const signed = await pitcrew(['desired', 'sign', '-k', path.join(dir, 'k'), desired]);
    assert.equal(signed.code, 0, signed.stderr);
    const envelope = path.join(dir, 'desired.json');
    writeFileSync(envelope, signed.stdout);

    const flags = [
      '--url',
      broker.url,
      '--ca',
      certs.ca,
      '--cert',
      certs.client.cert,
      '--key',
      certs.client.key,
    ];
    const target = ['--unit', 'van-042', '--prefix', 'fleet/{{ unit.id }}'];
    const pushed = await pitcrew(['desired', 'push', ...flags, '--username', 'fleet', ...target, envelope], {
      PITCREW_MQTT_PASSWORD: 's3cret',
    });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /pushed to fleet\/van-042\/desired/);
    assert.doesNotMatch(pushed.stderr, /DeprecationWarning/);
    await waitFor(() => got.length > 0, 'the pushed message');
    assert.deepEqual(got, [{ topic: 'fleet/van-042/desired', payload: signed.stdout.trim() }]);

    // Without the client certificate the broker refuses the connection: a failure, said.
    const refused = await pitcrew([
      'bundle',
      'push',
      '--url',
      broker.url,
      '--ca',
      certs.ca,
      ...target,
      envelope,
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /error/i);
    // A TLS file that is not there is named.
    const missing = await pitcrew([
      'bundle',
      'push',
      ...flags.slice(0, 2),
      '--ca',
      path.join(dir, 'nope.pem'),
      ...target,
      envelope,
    ]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /cannot read --ca .*nope\.pem/);
    assert.equal(got.length, 1);
  });
});
