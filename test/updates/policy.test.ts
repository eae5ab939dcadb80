/** The update machines as data: the transition table of DESIGN §7.2, and one policy per kind. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffDesired } from '../../agent/updates/diff.js';
import { POLICY, TRANSITIONS } from '../../agent/updates/policy.js';
import { desired, FAILING, FLASH, updateAgent } from '../helpers/update-agent.js';

describe('update machines as data', () => {
  test('the transition table is DESIGN §7.2: the cycle, SOTA skipping the download, cancel and failure back to noUpdate', () => {
    assert.deepEqual(TRANSITIONS, {
      noUpdate: ['downloading', 'readyToUpdate'],
      downloading: ['readyToUpdate', 'noUpdate'],
      readyToUpdate: ['updating', 'noUpdate'],
      updating: ['noUpdate'],
    });
  });

  test('every transition a machine announces is in the table', async () => {
    const u = await updateAgent(
      `download: { dir: dl, retry: { min: 1m, max: 4m } }\nfota:\n  schedule: { type: force }\n  installers: [${FLASH}, ${FAILING}]\nsota:\n  schedule: { type: force }\n  installer: { type: directory, root: apps }`,
    );
    u.send(desired({ components: [u.component('ecu-a', '1')], services: [u.app('nav', '1')] }));
    await u.reach('fota', 'noUpdate');
    await u.reach('sota', 'noUpdate');
    u.send(desired({ components: [u.component('bad-a', '1', 'bad')], services: [] }));
    await u.reach('sota', 'noUpdate');
    await u.reach('fota', 'noUpdate');
    for (const kind of ['fota', 'sota'] as const) {
      const states = u.tags(`system/update/${kind}/`).map((t) => t.split('/').at(-1)!);
      assert.ok(states.length >= 3, `${kind}: ${states}`);
      let from = 'noUpdate';
      for (const to of states) {
        assert.ok(
          TRANSITIONS[from as keyof typeof TRANSITIONS].includes(to as never),
          `${kind}: ${from} → ${to}`,
        );
        from = to;
      }
    }
  });

  test('FOTA is all or nothing and never removes; SOTA goes on without a failed item and removes what is no longer desired', () => {
    assert.equal(POLICY.fota.allOrNothing, true);
    assert.equal(POLICY.sota.allOrNothing, false);
    const d = desired({ sequence: 1, components: [], services: [], layers: [] }) as never;
    const installed = [
      { section: 'components' as const, id: 'ecu', type: 'ecu', version: '1', status: 'installed' as const },
      { section: 'services' as const, id: 'nav', version: '1', status: 'installed' as const },
    ];
    assert.deepEqual(diffDesired(POLICY.fota, d, installed), []);
    assert.deepEqual(
      diffDesired(POLICY.sota, d, installed).map((i) => `${i.action} ${i.id}`),
      ['remove nav'],
    );
  });
});
