/**
 * Signed messages from a trusted key, mutated at random (a value replaced anywhere by any JSON, or
 * a key dropped): each is applied or refused with its reasons, never thrown, and a refused one
 * leaves the unit as it was.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { loadConfigSync } from '../../agent/config/load.js';
import { BundleReceiver } from '../../agent/rollout/bundles.js';
import { Reloader } from '../../agent/rollout/reloader.js';
import { signEnvelope } from '../../agent/rollout/signing.js';
import { agentFor } from '../helpers/agent.js';
import { mutate, mutation } from '../helpers/mutate.js';
import { desired, FLASH, updateAgent } from '../helpers/update-agent.js';
import { signingKey } from '../helpers/updates.js';

const runs = { numRuns: 150 };

describe('signed messages mutated at random', () => {
  it('a rule bundle is applied whole or refused with its reasons, the rules before it kept', async () => {
    const h = agentFor(
      'version: 1\nrollout: { bundles: { trust: { keys: [fleet.pub] } } }\nreactor:\n  rules:\n    - { name: r0, on: ping, do: [{ emit: { tag: pong } }] }\n',
    );
    const key = signingKey(h.dir, 'fleet');
    const file = path.join(h.dir, 'pitcrew.yaml');
    const cx = { file, files: [file], raw: loadConfigSync(file, {}).raw };
    h.agent.use(new Reloader(h.agent.context(h.agent.config.rollout, cx)), 'rollout');
    const bundles = new BundleReceiver(h.agent.context({ trust: { keys: [key.pubFile] } }));
    h.agent.use(bundles, 'rollout.bundles');
    after(() => h.agent.stop());
    await h.agent.start();
    const code = Buffer.from('export function createService() { return { handlers: {} }; }\n');
    const sha256 = createHash('sha256').update(code).digest('hex');
    const names = () => h.agent.reactor.list().map((r) => r.name);
    let version = 0;
    const seen = { applied: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const doc = {
          version: ++version,
          rules: [
            {
              name: 'r1',
              on: 'ping',
              when: { '>': [{ var: 'event.data.v' }, 1] },
              throttle: '1s',
              do: [{ emit: { tag: 'pong/{{ event.data.v }}', data: { a: 1 } } }, { log: { message: 'x' } }],
            },
            { name: 'r2', on: ['a/+', 're:^b/.*'], do: [{ state: { set: 'k', value: 1 } }] },
          ],
          services: {
            m: { driver: 'module', settings: { module: './mod/m.mjs' } },
            s: { driver: 'sim-vehicle', settings: { seed: 1 } },
          },
          files: { 'mod/m.mjs': { sha256, content: code.toString('base64') } },
        };
        mutate(doc, m);
        const before = names();
        const envelope = signEnvelope(Buffer.from(JSON.stringify(doc)), key.privatePem);
        const ack = await bundles.receive(Buffer.from(JSON.stringify(envelope)));
        seen[ack.status as 'applied' | 'rejected']++;
        if (ack.status === 'applied') {
          // Without `rules` the bundle ships services only, and the config file's rules stay.
          const rules = (doc as { rules?: { name: string }[] }).rules;
          assert.deepEqual(names(), rules ? rules.map((r) => r.name) : ['r0']);
        } else {
          assert.equal(ack.status, 'rejected', JSON.stringify(ack));
          assert.ok(ack.errors.length > 0 && ack.errors.every((e) => typeof e === 'string' && e.length > 0));
          assert.deepEqual(names(), before);
        }
      }),
      runs,
    );
    // Both outcomes were met: the property was tested on each.
    assert.ok(seen.applied > 0 && seen.rejected > 0, JSON.stringify(seen));
  });

  it('a desired status is accepted or refused with its reasons; the unit takes a good one after', async () => {
    const u = await updateAgent(`download: { dir: dl, retry: { min: 1m, max: 4m } }
fota:
  schedule: { type: force }
  installers: [${FLASH}]
sota:
  schedule: { type: force }
  installer: { type: directory, root: sub/apps }`);
    const good = () =>
      desired({
        components: [u.component('ecu-main', '1.0')],
        services: [u.app('nav', '1')],
        layers: [{ ...u.app('base', '1'), digest: `sha256:${'a'.repeat(64)}` }],
      });
    const seen = { accepted: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const doc = good();
        mutate(doc, m);
        const outcome = u.send(doc);
        seen[outcome.status as 'accepted' | 'rejected']++;
        if (outcome.status !== 'accepted') {
          assert.equal(outcome.status, 'rejected', JSON.stringify(outcome));
          assert.ok(outcome.reasons.length > 0 && outcome.reasons.every((r) => typeof r === 'string'));
        }
        await u.clock.advance(10);
      }),
      runs,
    );
    assert.ok(seen.accepted > 0 && seen.rejected > 0, JSON.stringify(seen));
    assert.equal(u.send(good()).status, 'accepted');
  });
});
