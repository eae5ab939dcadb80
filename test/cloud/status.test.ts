import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusAggregator } from '../../agent/cloud/status-aggregator.js';
import { FakeClock } from '../../agent/core/clock.js';
import { UnitStatus, type UnitStatusT } from '../../schemas/wire.js';

function aggregator(window = 30_000) {
  const clock = new FakeClock(0);
  const sent: UnitStatusT[] = [];
  const agg = new StatusAggregator(clock, window, (m) => sent.push(UnitStatus.parse(m)));
  return { clock, sent, agg };
}

describe('status aggregator (DESIGN §5)', () => {
  it('collapses 1,000 changes within a window into one delta with only what changed', async () => {
    const { clock, sent, agg } = aggregator();
    agg.update('unitConfig', 'unit', { version: 'a1', status: 'installed' });
    agg.update('components', 'c0', { id: 'c0', type: 'ecu', version: '1', status: 'installed' });
    agg.connected();
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.isDeltaInfo, false);
    for (let i = 0; i < 1000; i++)
      agg.update('services', `s${i % 10}`, { id: `s${i % 10}`, version: String(i), status: 'installing' });
    await clock.advance(29_999);
    assert.equal(sent.length, 1, 'nothing before the window ends');
    await clock.advance(1);
    assert.equal(sent.length, 2);
    const delta = sent[1]!;
    assert.equal(delta.isDeltaInfo, true);
    assert.equal(delta.services!.length, 10);
    assert.equal(delta.services!.find((s) => s.id === 's9')!.version, '999');
    assert.equal(delta.components, undefined, 'unchanged sections are left out');
    await clock.advance(120_000);
    assert.equal(sent.length, 2, 'no change, no message');
  });

  it('merges fields into the item (upsert) and ignores an update that changes nothing', async () => {
    const { clock, sent, agg } = aggregator(1000);
    agg.connected();
    agg.update('components', 'c', { id: 'c', type: 'ecu', version: '1', status: 'downloading' });
    await clock.advance(1000);
    const errorInfo = { aosCode: 1, exitCode: 0, message: 'PITCREW_UPDATE_VERIFY: sha256 mismatch' };
    agg.update('components', 'c', { status: 'error', errorInfo });
    agg.update('components', 'c', { status: 'error' });
    await clock.advance(1000);
    assert.deepEqual(sent[2]!.components, [
      { id: 'c', type: 'ecu', version: '1', status: 'error', errorInfo },
    ]);
    agg.update('components', 'c', { status: 'error' });
    await clock.advance(5000);
    assert.equal(sent.length, 3);
  });

  it('sends nothing while offline, and the full status on reconnect carries what changed meanwhile', async () => {
    const { clock, sent, agg } = aggregator(1000);
    agg.connected();
    agg.disconnected();
    agg.update('services', 'nav', { id: 'nav', version: '2', status: 'installed' });
    await clock.advance(10_000);
    assert.equal(sent.length, 1);
    agg.connected();
    assert.equal(sent.length, 2);
    assert.equal(sent[1]!.isDeltaInfo, false);
    assert.deepEqual(sent[1]!.services, [{ id: 'nav', version: '2', status: 'installed' }]);
    await clock.advance(10_000);
    assert.equal(sent.length, 2, 'the delta went with the full status');
  });
});
