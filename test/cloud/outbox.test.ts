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

describe('outbox bounds and acknowledgements', () => {
  it('keeps within max_bytes by dropping exactly the oldest records, and reports each drop', () => {
    const drops: number[] = [];
    const box = new Outbox(
      tmpDir(),
      { maxRecords: 1_000_000, maxBytes: 10_000 },
      { onDropped: (n) => drops.push(n) },
    );
    for (let i = 0; i < 300; i++) box.push('obd', { type: 'n', value: i, ts: i });
    box.flush();
    assert.ok(box.sizeBytes <= 10_000, `${box.sizeBytes} bytes kept`);
    const kept = box.read(0, 1000).map((r) => (JSON.parse(r.record) as { value: number }).value);
    assert.equal(kept.at(-1), 299);
    assert.equal(kept[0], 300 - kept.length, 'the newest are kept, in order');
    assert.equal(box.dropped, 300 - kept.length);
    assert.equal(
      drops.reduce((a, b) => a + b, 0),
      box.dropped,
    );
    // One more byte would not fit: the queue is as full as the limit allows.
    assert.ok(box.sizeBytes + box.read(0, 1)[0]!.size > 10_000);
    box.close();
  });

  it('sheds its oldest records when the disk is short, at least the bytes asked, and counts them dropped', () => {
    const drops: number[] = [];
    const box = new Outbox(tmpDir(), undefined, { onDropped: (n) => drops.push(n) });
    for (let i = 0; i < 100; i++) box.push('obd', { type: 'n', value: i, ts: i });
    const before = box.sizeBytes;
    const sizes = box.read(0, 11).map((r) => r.size);
    const ten = sizes.slice(0, 10).reduce((a, b) => a + b, 0);
    // One byte more than ten records: the eleventh goes too, and no more.
    const shed = box.shed(ten + 1);
    assert.deepEqual(shed, { dropped: 11, freed: ten + sizes[10]! });
    assert.equal(box.sizeBytes, before - shed.freed);
    assert.equal((JSON.parse(box.read(0, 1)[0]!.record) as { value: number }).value, 11, 'the oldest went');
    assert.deepEqual([box.dropped, drops], [11, [11]]);
    box.close();
  });

  it('an acknowledged range leaves the queue; depth and bytes follow without a query', () => {
    const dir = tmpDir();
    const box = new Outbox(dir);
    for (let i = 0; i < 10; i++) box.push('obd', { type: 'n', value: i, ts: i });
    box.flush();
    const rows = box.read(0, 4);
    const bytes = box.sizeBytes;
    box.ack(rows[0]!.seq, rows[3]!.seq);
    assert.equal(box.size, 6);
    assert.equal(box.sizeBytes, bytes - rows.reduce((a, r) => a + r.size, 0));
    assert.equal((JSON.parse(box.read(0, 1)[0]!.record) as { value: number }).value, 4);
    box.close();
    const again = new Outbox(dir);
    assert.equal(again.size, 6, 'counts are read back on open');
    assert.equal(again.oldest(), 4);
    again.close();
  });

  it('takes over a queue written by an earlier version (no size, topic, qos, retain columns)', () => {
    const dir = tmpDir();
    const db = new Database(path.join(dir, 'outbox.db'));
    db.exec(
      'CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, service TEXT NOT NULL, ts INTEGER NOT NULL, record TEXT NOT NULL)',
    );
    db.prepare('INSERT INTO outbox (id, service, ts, record) VALUES (?, ?, ?, ?)').run(
      'a',
      'obd',
      1,
      '{"id":"a"}',
    );
    db.close();
    const box = new Outbox(dir);
    assert.equal(box.size, 1);
    assert.equal(box.sizeBytes, 10);
    assert.deepEqual(
      box.read(0, 10).map((r) => [r.record, r.topic, r.qos]),
      [['{"id":"a"}', null, 1]],
    );
    box.close();
    // A new queue has the same columns as one brought up to date, in one statement (no migration).
    const columns = (file: string) => {
      const d = new Database(file, { readonly: true });
      const c = d.prepare('PRAGMA table_info(outbox)').all();
      const version = (d.pragma('schema_version', { simple: true }) as number) ?? 0;
      d.close();
      return { c, version };
    };
    const fresh = tmpDir();
    new Outbox(fresh).close();
    const made = columns(path.join(fresh, 'outbox.db'));
    assert.deepEqual(made.c, columns(path.join(dir, 'outbox.db')).c);
    assert.equal(made.version, 1, 'the table created, nothing altered after');
  });
});

describe('outbox group commit', () => {
  it('a push resolves once its record is on disk, and many pushes share one transaction', async () => {
    const dir = tmpDir();
    const box = new Outbox(dir);
    const pushes = Array.from({ length: 300 }, (_, i) => box.push('obd', { type: 'n', value: i, ts: i }));
    // Nothing is accepted before its batch is written (read through the outbox's own connection:
    // it holds the file alone), and all of it is in the file once closed.
    const count = () => box.read(0, 1000).length;
    assert.equal(count(), 0);
    await pushes[0];
    assert.equal(count(), 300);
    await Promise.all(pushes);
    box.close();
    const reader = new Database(path.join(dir, 'outbox.db'), { readonly: true });
    assert.equal((reader.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n, 300);
    reader.close();
  });
});
