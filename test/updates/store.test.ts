/**
 * The updater's store keeps its replay floor (the last desired status taken) twice: in
 * `updates.db` and in `updates-floor.json` beside it, so either copy outlives the other's loss.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { PitcrewError } from '../../agent/core/errors.js';
import { UpdateStore } from '../../agent/updates/store.js';
import { tmpDir } from '../helpers/tmp.js';

function opened(dir: string) {
  const said: string[] = [];
  const damaged: string[] = [];
  const failed: string[] = [];
  const store = new UpdateStore(dir, {
    storage: {
      damaged: (file, why: PitcrewError) => damaged.push(`${path.basename(file)} ${why.code}`),
      report: (file, e) => failed.push(`${path.basename(file)} ${(e as NodeJS.ErrnoException).code}`),
    },
    log: pino({}, { write: (l: string) => said.push(JSON.parse(l).msg as string) }),
  });
  return { store, said, damaged, failed };
}

const floorFile = (dir: string) => path.join(dir, 'updates-floor.json');
const floorIn = (dir: string) => JSON.parse(readFileSync(floorFile(dir), 'utf8')) as unknown;
/** A data directory whose store took `floor`, and was closed. */
function tookFloor(floor: { sequence: number; digest: string }): string {
  const dir = tmpDir();
  const { store } = opened(dir);
  store.lastDesired = floor;
  store.close();
  return dir;
}

const A = { sequence: 7, digest: 'a'.repeat(64) };
const B = { sequence: 8, digest: 'b'.repeat(64) };

describe('the replay floor', () => {
  test('is kept in its file and in the database, and read back', () => {
    const dir = tmpDir();
    let { store } = opened(dir);
    assert.deepEqual(store.lastDesired, { sequence: 0, digest: '' });
    assert.deepEqual(floorIn(dir), { sequence: 0, digest: '' }, 'a first start writes the file');
    store.lastDesired = A;
    assert.deepEqual(floorIn(dir), A);
    store.close();
    ({ store } = opened(dir));
    assert.deepEqual(store.lastDesired, A);
    store.close();
  });

  test("a unit from before the file: the database's floor is written to it at the start", () => {
    const dir = tookFloor(A);
    rmSync(floorFile(dir));
    const { store } = opened(dir);
    assert.deepEqual(store.lastDesired, A);
    assert.deepEqual(floorIn(dir), A);
    store.close();
  });

  test("a file that cannot be written at a start (a full card) is said; the database's copy serves", () => {
    const dir = tookFloor(A);
    rmSync(floorFile(dir));
    mkdirSync(`${floorFile(dir)}.tmp`); // the file beside cannot be made
    const o = opened(dir);
    assert.deepEqual(o.failed, ['updates-floor.json EISDIR']);
    assert.deepEqual(o.store.lastDesired, A);
    o.store.close();
  });

  test('the higher of the two is taken: a power cut between the writes leaves the file ahead', () => {
    const dir = tookFloor(A);
    writeFileSync(floorFile(dir), JSON.stringify(B));
    const { store } = opened(dir);
    assert.deepEqual(store.lastDesired, B);
    store.close();
  });

  test("a file that cannot be read is said, and the database's copy written over it", () => {
    const dir = tookFloor(A);
    for (const torn of ['', '{"sequence":"7"}']) {
      writeFileSync(floorFile(dir), torn);
      const o = opened(dir);
      assert.deepEqual(o.store.lastDesired, A);
      assert.match(o.said.join('\n'), /updates-floor\.json cannot be read/);
      assert.deepEqual(floorIn(dir), A);
      o.store.close();
    }
  });

  test('a damaged database is moved aside and begun again, its floor kept from the file', () => {
    const dir = tmpDir();
    let o = opened(dir);
    o.store.lastDesired = A;
    o.store.setMeta('instances', [{ id: 'nav' }]);
    o.store.close();
    const db = path.join(dir, 'updates.db');
    writeFileSync(db, Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(8176)]));
    o = opened(dir);
    assert.deepEqual(o.damaged, ['updates.db PITCREW_STORAGE_DAMAGED']);
    assert.deepEqual(o.store.lastDesired, A);
    assert.equal(o.store.meta('instances'), undefined, 'what it held besides is lost');
    assert.equal(readdirSync(dir).filter((n) => n.startsWith('updates.db.damaged-')).length, 1);
    o.store.close();
  });

  test('a damaged database without the file stops the start, saying what to do; nothing is moved', () => {
    const dir = tookFloor(A);
    rmSync(floorFile(dir));
    const db = path.join(dir, 'updates.db');
    writeFileSync(db, Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(8176)]));
    assert.throws(
      () => opened(dir),
      (e: PitcrewError) => {
        assert.equal(e.code, 'PITCREW_UPDATES_FLOOR_LOST');
        assert.match(e.message, /Restore .*updates-floor\.json, or move .*updates\.db aside to begin again/);
        return true;
      },
    );
    assert.ok(existsSync(db));
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('damaged')),
      [],
    );
  });
});
