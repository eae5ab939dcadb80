import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { readTrustedKeys } from '../../agent/rollout/signing.js';
import { tmpDir } from '../helpers/tmp.js';
import { signingKey } from '../helpers/updates.js';

test('trusted keys are read at start; a missing one fails it, naming its config key', () => {
  const dir = tmpDir();
  const { pubFile } = signingKey(dir);
  assert.equal(readTrustedKeys([pubFile], 'rollout.bundles.trust.keys').length, 1);
  assert.throws(
    () => readTrustedKeys([pubFile, path.join(dir, 'gone.pub')], 'rollout.bundles.trust.keys'),
    (e: Error & { code?: string; key?: string }) => {
      assert.equal(e.code, 'PITCREW_START_FAILED');
      assert.equal(e.key, 'rollout.bundles.trust.keys.1');
      assert.match(e.message, /^cannot start rollout: trusted key .*gone\.pub: ENOENT/);
      return true;
    },
  );
});
