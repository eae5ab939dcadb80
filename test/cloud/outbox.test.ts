import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Outbox } from '../../agent/cloud/outbox.js';
import { tmpDir } from '../helpers/tmp.js';

describe('outbox (local record queue)', () => {
  it('writes every record to disk with a unique id, and keeps them across reopening', () => {
    const dir = tmpDir();
    const a = new Outbox(dir);
    a.push('obd', { type: 'rpm', value: 800, ts: 1 });
    a.push('obd', { type: 'speed', value: 12, unit: 'km/h', ts: 2 });
    a.close();
    const db = new Database(path.join(dir, 'outbox.db'), { readonly: true });
    const rows = db.prepare('SELECT id, service, record FROM outbox ORDER BY seq').all() as {
      id: string;
      service: string;
      record: string;
    }[];
    db.close();
    assert.equal(rows.length, 2);
    assert.notEqual(rows[0]!.id, rows[1]!.id);
    const rec = JSON.parse(rows[1]!.record) as Record<string, unknown>;
    assert.deepEqual(
      { ...rec, id: undefined },
      { id: undefined, '@t': 'obd.speed', '@ts': 2, type: 'speed', value: 12, unit: 'km/h', ts: 2 },
    );
    assert.equal(new Outbox(dir).size, 2);
  });

  it('drops the oldest records past max_records, and counts them', () => {
    const box = new Outbox(tmpDir(), { maxRecords: 500, maxBytes: 2 ** 30 });
    for (let i = 0; i < 2000; i++) box.push('obd', { type: 'n', value: i, ts: i });
    assert.equal(box.size, 500);
    assert.equal(box.dropped, 1500);
    box.close();
  });
});

describe('outbox group commit', () => {
  it('a push resolves once its record is on disk, and many pushes share one transaction', async () => {
    const dir = tmpDir();
    const box = new Outbox(dir);
    const pushes = Array.from({ length: 300 }, (_, i) => box.push('obd', { type: 'n', value: i, ts: i }));
    // Nothing is accepted before its batch is written.
    const reader = new Database(path.join(dir, 'outbox.db'), { readonly: true });
    const count = () => (reader.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
    assert.equal(count(), 0);
    await pushes[0];
    assert.equal(count(), 300);
    await Promise.all(pushes);
    reader.close();
    box.close();
  });
});
