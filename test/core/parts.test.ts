/** The registry of parts: enabled by their sections, checked for what they need, built in order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigSync } from '../../agent/config/load.js';
import type { Part } from '../../agent/parts/context.js';
import { enabledParts, LIVE_SECTIONS, PARTS, type PartSpec } from '../../agent/runtime/extensions.js';
import { buildAgent } from '../../agent/runtime/root.js';
import { configFile } from '../helpers/tmp.js';

const config = (yaml: string) => {
  const { file } = configFile(() => `version: 1\n${yaml}`);
  return loadConfigSync(file, {}).config;
};

describe('parts registry', () => {
  it('enables a part by its section, in registry order; the rest never load', () => {
    const keys = (yaml: string) => enabledParts(config(yaml)).map((p) => p.key);
    assert.deepEqual(keys(''), ['rollout', 'control.socket', 'systemd']);
    assert.deepEqual(keys('metrics: { listen: "127.0.0.1:9464" }\nupdates: { trust: { keys: [k.pub] } }\n'), [
      'rollout',
      'updates',
      'metrics.listen',
      'control.socket',
      'systemd',
    ]);
  });

  it('a part whose needs no earlier part provides is refused with PITCREW_PART_NEEDS', () => {
    const lonely: PartSpec = {
      key: 'lonely',
      section: () => ({}),
      needs: ['updates'],
      load: async () => () => ({ name: 'lonely', start: async () => {}, stop: async () => {} }),
    };
    assert.throws(
      () => enabledParts(config(''), [lonely]),
      (e: Error & { code?: string }) =>
        e.code === 'PITCREW_PART_NEEDS' &&
        /lonely needs 'updates', which no part before it provides/.test(e.message),
    );
    // The shipped registry is consistent for every part it has.
    const all = config(
      'metrics: { listen: "127.0.0.1:9464" }\nupdates: { trust: { keys: [k.pub] } }\nrollout: { git: { repo: /r, branch: main, path: p.yaml }, bundles: { trust: { keys: [k.pub] } } }\npower: {}\nstorage: {}\n',
    );
    assert.deepEqual(
      enabledParts(all).map((p) => p.key),
      PARTS.map((p) => p.key),
    );
  });

  it('which sections apply live comes from the registry (the kernel sections, and live parts)', () => {
    assert.deepEqual([...LIVE_SECTIONS].sort(), ['include', 'reactor', 'services', 'version']);
  });

  it('the root builds each enabled part from its own section, and wires what it provides', async () => {
    const seen: unknown[] = [];
    const probe: PartSpec = {
      key: 'probe',
      section: (c) => c.metrics,
      provides: ['updates'],
      load: async () => (cx) => {
        seen.push(cx.section);
        const part: Part = {
          name: 'probe',
          start: async () => {},
          stop: async () => {},
          provides: {
            updates: {
              status: () => 'probed',
              instanceStatus: () => [],
              installing: () => false,
              downloadsInUse: () => [],
              startUpdate: () => {},
              cancel: () => {},
            },
          },
        };
        return part;
      },
    };
    const c = config('metrics: { listen: "127.0.0.1:1" }\n');
    const agent = await buildAgent(c, { origin: { file: '', files: [], raw: {} } }, [probe]);
    assert.deepEqual(seen, [{ listen: '127.0.0.1:1' }]);
    assert.equal(agent.context(null).ports.updates?.status(), 'probed');
  });
});
