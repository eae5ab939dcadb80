import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bus } from '../../agent/core/bus.js';
import { literalSegments } from '../../agent/core/patterns.js';

describe('re: patterns indexed by their literal prefix', () => {
  it('finds the whole segments every match starts with, or none', () => {
    const cases: [string, string][] = [
      ['^vehicle/s12/t[0-3]$', 'vehicle/s12'],
      ['^vehicle\\/obd\\/(rpm|speed)$', 'vehicle/obd'],
      ['^vehicle/(.+)/running$', 'vehicle'],
      ['^vehicle/obd/', 'vehicle/obd'],
      ['^vehicles?/obd/x', ''],
      ['^vehicle/ob?d/x', 'vehicle'],
      ['vehicle/obd/x', ''],
      ['^a/b|^c/d', ''],
      ['^\\w+/x', ''],
      ['^system/service/[^/]+/failed$', 'system/service'],
    ];
    for (const [src, want] of cases) assert.equal(literalSegments(new RegExp(src)), want, src);
  });

  it('delivers to indexed and unindexed patterns exactly as a scan would', () => {
    const bus = new Bus();
    const patterns = [
      're:^vehicle/s1/t[0-3]$',
      're:^vehicle/s12/t[0-3]$',
      're:^vehicle/(s1|s12)/t2$',
      're:t3$',
      're:^vehicle/s1/',
      're:^system/.+',
    ];
    const got: string[] = [];
    for (const p of patterns) bus.on(p, (e, m) => got.push(`${p} ${e.tag} ${m.join(',')}`));
    const tags = ['vehicle/s1/t2', 'vehicle/s12/t3', 'vehicle/s1', 'system/x', 'vehicle/s2/t0'];
    for (const t of tags) bus.emit(t);
    const want: string[] = [];
    for (const t of tags)
      for (const p of patterns) {
        const m = new RegExp(p.slice(3)).exec(t);
        if (m) want.push(`${p} ${t} ${m.slice(1).join(',')}`);
      }
    assert.deepEqual([...got].sort(), [...want].sort());
  });
});
