import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readJsonFile, writeDurably } from '../../agent/core/durable-file.js';
import { tmpDir } from '../helpers/tmp.js';

describe('durable state files', () => {
  it('are replaced whole, owner-only, with nothing left beside them', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'state.json');
    writeDurably(file, '{"version":1}');
    writeDurably(file, '{"version":2}');
    assert.deepEqual(readJsonFile(file), { version: 2 });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['state.json']);
  });

  it('read as nothing when there is none, and as an error naming the file when torn', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'state.json');
    assert.equal(readJsonFile(file), undefined);
    writeFileSync(file, '');
    assert.throws(
      () => readJsonFile(file),
      (e: Error & { code?: string }) =>
        e.code === 'PITCREW_STATE_UNREADABLE' &&
        e.message.startsWith(`${file} cannot be read (0 bytes, not JSON`),
    );
    writeFileSync(file, '{"version":');
    assert.throws(() => readJsonFile(file), /11 bytes, not JSON/);
    assert.equal(readFileSync(file, 'utf8'), '{"version":');
  });
});
