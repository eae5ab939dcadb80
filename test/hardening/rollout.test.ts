/**
 * Signed bundles under concurrency (versions only go forward, whatever order they arrive in), and
 * what a payload may hold.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfigSync } from '../../agent/config/load.js';
import { BundleReceiver, keptBundle } from '../../agent/rollout/bundles.js';
import { Reloader } from '../../agent/rollout/reloader.js';
import { signEnvelope } from '../../agent/rollout/signing.js';
import { agentFor } from '../helpers/agent.js';
import { signingKey } from '../helpers/updates.js';

/** A started agent taking bundles signed by its `fleet` key, with `extra` config. */
async function bundleAgent(extra = '', rollout = '') {
  const h = agentFor(
    `version: 1\nrollout: { bundles: { trust: { keys: [fleet.pub] } }${rollout} }\n${extra}`,
  );
  const key = signingKey(h.dir, 'fleet');
  const file = path.join(h.dir, 'pitcrew.yaml');
  h.agent.use(
    new Reloader(
      h.agent.context(h.agent.config.rollout, { file, files: [file], raw: loadConfigSync(file, {}).raw }),
    ),
    'rollout',
  );
  const bundles = new BundleReceiver(h.agent.context({ trust: { keys: [key.pubFile] } }));
  h.agent.use(bundles, 'rollout.bundles');
  after(() => h.agent.stop());
  await h.agent.start();
  return { h, key, bundles };
}

describe('bundles under concurrency', () => {
  it('pairs pushed back to back, in both orders, 50 times: the newer always wins and the stored version never goes back', async () => {
    const { h, key, bundles } = await bundleAgent(
      'reactor:\n  rules:\n    - { name: r0, on: ping, do: [{ emit: { tag: pong/0 } }] }\n',
    );
    const bundle = (version: number) =>
      Buffer.from(
        JSON.stringify(
          signEnvelope(
            Buffer.from(
              JSON.stringify({
                version,
                rules: [{ name: `r${version}`, on: 'ping', do: [{ emit: { tag: `pong/${version}` } }] }],
              }),
            ),
            key.privatePem,
          ),
        ),
      );
    const stored = () =>
      (
        JSON.parse(readFileSync(path.join(h.agent.dataDir, 'rollout', 'bundle-version.json'), 'utf8')) as {
          version: number;
        }
      ).version;
    let v = 0;
    for (let i = 0; i < 50; i++) {
      for (const newerFirst of [true, false]) {
        const older = ++v;
        const newer = ++v;
        const [first, second] = newerFirst ? [newer, older] : [older, newer];
        const acks = await Promise.all([bundles.receive(bundle(first)), bundles.receive(bundle(second))]);
        const byVersion = new Map(acks.map((a) => [a.version, a.status]));
        assert.equal(byVersion.get(newer), 'applied', `pair ${i}: ${JSON.stringify(acks)}`);
        assert.equal(byVersion.get(older), newerFirst ? 'rejected' : 'applied');
        assert.equal(stored(), newer);
        assert.deepEqual(
          h.agent.reactor.list().map((r) => r.name),
          [`r${newer}`],
        );
        // The newer envelope again is acknowledged as before and applies nothing; the older stays refused.
        const before = h.tags('system/config/applied').length;
        assert.equal((await bundles.receive(bundle(newer))).status, 'applied');
        assert.equal(h.tags('system/config/applied').length, before);
        assert.equal((await bundles.receive(bundle(older))).status, 'rejected');
      }
    }
  });

  it('a flood of junk bundles costs ten reports a minute, then one saying how many were held back', async () => {
    const { h, bundles } = await bundleAgent();
    for (let i = 0; i < 5000; i++) void bundles.receive(Buffer.from('junk'));
    await bundles.receive(Buffer.from('junk'));
    assert.equal(h.tags('system/config/rejected').length, 10);
    await h.clock.advance(60_000);
    const ack = await bundles.receive(Buffer.from('junk'));
    assert.equal(ack.held, 4991);
  });
});

describe('what a bundle holds', () => {
  it('a signed bundle carrying a file whose whole path is __proto__ is refused with the reason, not applied without it', async () => {
    const { h, key, bundles } = await bundleAgent();
    const file = {
      sha256: createHash('sha256').update('x').digest('hex'),
      content: Buffer.from('x').toString('base64'),
    };
    const payload = `{"version":1,"rules":[],"files":{"__proto__":${JSON.stringify(file)},"a.txt":${JSON.stringify(file)}}}`;
    const ack = await bundles.receive(
      Buffer.from(JSON.stringify(signEnvelope(Buffer.from(payload), key.privatePem))),
    );
    assert.equal(ack.status, 'rejected');
    assert.match(ack.errors.join('\n'), /files\.__proto__: '__proto__' cannot be a file's whole path/);
    assert.equal(existsSync(path.join(h.agent.dataDir, 'rollout', 'bundle-1')), false);
  });

  it("a bundle without rules ships services only: the config file's rules stay, not all gone", async () => {
    const { h, key, bundles } = await bundleAgent(
      'reactor:\n  rules:\n    - { name: r0, on: ping, do: [{ emit: { tag: pong/0 } }] }\n',
    );
    const payload = { version: 1, services: { car: { driver: 'sim-vehicle', settings: { seed: 7 } } } };
    const ack = await bundles.receive(
      Buffer.from(JSON.stringify(signEnvelope(Buffer.from(JSON.stringify(payload)), key.privatePem))),
    );
    assert.deepEqual(ack, { version: 1, status: 'applied', errors: [] });
    assert.deepEqual(
      h.agent.reactor.list().map((r) => r.name),
      ['r0'],
    );
    assert.ok(h.agent.services.has('car'));
  });

  it('a bundle reverted by its health check is not kept: the one before it is, its files removed', async () => {
    const { h, key, bundles } = await bundleAgent('', ', health: { window: 1m }');
    const send = (version: number, payload: object) =>
      bundles.receive(
        Buffer.from(
          JSON.stringify(signEnvelope(Buffer.from(JSON.stringify({ version, ...payload })), key.privatePem)),
        ),
      );
    const rules = (name: string) => [{ name, on: 'ping', do: [{ emit: { tag: 'pong' } }] }];
    assert.equal((await send(1, { rules: rules('r1') })).status, 'applied');
    await h.clock.advance(60_000);
    assert.equal(keptBundle(h.agent.dataDir), path.join(h.agent.dataDir, 'rollout', 'bundle-1'));
    const flaky = path.resolve(import.meta.dirname, '../fixtures/modules/flaky.mjs');
    const unhealthy = {
      rules: rules('r2'),
      services: { flaky: { driver: 'module', settings: { module: flaky }, restart: { delay: '5s' } } },
    };
    assert.equal((await send(2, unhealthy)).status, 'applied');
    assert.equal(keptBundle(h.agent.dataDir), path.join(h.agent.dataDir, 'rollout', 'bundle-2'));
    await h.clock.advance(60_000);
    assert.ok(h.tags('system/config/reverted').length > 0);
    assert.deepEqual(
      h.agent.reactor.list().map((r) => r.name),
      ['r1'],
    );
    assert.equal(keptBundle(h.agent.dataDir), path.join(h.agent.dataDir, 'rollout', 'bundle-1'));
    assert.equal(existsSync(path.join(h.agent.dataDir, 'rollout', 'bundle-2')), false);
  });
});
