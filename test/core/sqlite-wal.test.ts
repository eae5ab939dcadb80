import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { withWal } from '../../agent/core/sqlite-wal.js';
import { tmpDir } from '../helpers/tmp.js';

/**
 * A database as the agent keeps one (WAL, held exclusively), written in `transactions` of 50 rows
 * each, never checkpointed: what a power cut leaves on the card is its file and its log.
 */
function crashed(transactions: number, more?: (db: Database.Database) => void) {
  const dir = tmpDir();
  const file = path.join(dir, 'live.db');
  const db = new Database(file);
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (n INTEGER, pad TEXT)');
  const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
  for (let t = 0; t < transactions; t++)
    db.transaction(() => {
      for (let i = 0; i < 50; i++) insert.run(t * 50 + i, 'x'.repeat(200));
    })();
  more?.(db);
  // The files as they are now, the connection still open: a crash.
  copyFileSync(file, path.join(dir, 'card.db'));
  copyFileSync(`${file}-wal`, path.join(dir, 'card.db-wal'));
  const rows = (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  db.close();
  return {
    file: readFileSync(path.join(dir, 'card.db')),
    wal: readFileSync(path.join(dir, 'card.db-wal')),
    rows,
  };
}

/** The rows a database image holds, opened in memory as the read-only card's copy is. */
function rowsOf(bytes: Buffer): number {
  const image = Buffer.from(bytes);
  image[18] = 1;
  image[19] = 1;
  const db = new Database(image);
  assert.equal((db.pragma('integrity_check') as { integrity_check: string }[])[0]!.integrity_check, 'ok');
  const n = (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  db.close();
  return n;
}

/** Byte offsets in a log of 4 KiB pages: frame `i`'s header. */
const frame = (i: number) => 32 + i * (24 + 4096);

describe('a database file with what its log committed (withWal)', () => {
  it('has every transaction a crash left in the log alone', () => {
    const { file, wal, rows } = crashed(6);
    assert.equal(rows, 300);
    assert.throws(() => rowsOf(file), /no such table/, 'the file alone has none of it');
    assert.equal(rowsOf(withWal(file, wal)), 300);
  });

  it('ends at the last whole transaction: a log cut short, or damaged from a frame on', () => {
    const { file, wal } = crashed(6);
    const frames = (wal.length - 32) / (24 + 4096);
    const commits = Array.from({ length: frames }, (_, i) => i).filter(
      (i) => wal.readUInt32BE(frame(i) + 4) > 0,
    );
    assert.equal(commits.length, 7, 'the table, then six transactions');
    // Cut inside the last transaction: the five before it are there.
    assert.equal(rowsOf(withWal(file, wal.subarray(0, frame(commits[6]!) + 100))), 250);
    // A page of the fourth transaction damaged: the log ends before it.
    const damaged = Buffer.from(wal);
    damaged[frame(commits[3]! + 1) + 24 + 2000]! ^= 0xff;
    assert.equal(rowsOf(withWal(file, damaged)), 150);
  });

  it('reads a log begun again after a checkpoint only as far as its own frames (the rest, an earlier cycle)', () => {
    const { file, wal, rows } = crashed(6, (db) => {
      db.pragma('wal_checkpoint(RESTART)');
      db.prepare('INSERT INTO t VALUES (?, ?)').run(-1, 'after');
    });
    assert.equal(rows, 301);
    assert.ok(wal.length > frame(8), 'the earlier cycle is still in the file, behind the new frames');
    assert.equal(rowsOf(withWal(file, wal)), 301);
  });

  it('changes nothing with a log that is not one, or not this file’s', () => {
    const { file, wal } = crashed(2);
    const image = withWal(file, wal);
    assert.equal(withWal(image, Buffer.alloc(0)), image);
    assert.equal(withWal(image, Buffer.from('not a write-ahead log at all, though long enough')), image);
    const otherSize = Buffer.from(wal);
    otherSize.writeUInt32BE(8192, 8);
    assert.equal(withWal(file, otherSize), file);
    const badHeader = Buffer.from(wal);
    badHeader[20]! ^= 1;
    assert.equal(withWal(file, badHeader), file);
  });
});
