/**
 * A fleet backend not written in Node signs as `pitcrew bundle sign` does: the README's Python
 * example (deploy/signing/sign.py) makes envelopes a unit takes, under the key id keygen printed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openEnvelope } from '../../agent/rollout/signing.js';
import { ROOT, runBin } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

describe('signing from other tools', () => {
  it('the Python example signs what the unit verifies, with the key id keygen gives', async () => {
    const dir = tmpDir();
    const key = path.join(dir, 'fleet.key');
    const made = await runBin(['keygen', '-o', key]);
    assert.equal(made.code, 0, made.stderr);
    const keyId = /^key id: ([0-9a-f]{16})$/m.exec(made.stdout)![1];
    const bundle = path.join(dir, 'bundle.json');
    writeFileSync(
      bundle,
      JSON.stringify({ version: 7, rules: [{ name: 'r', on: 'a', do: [{ stop: true }] }] }),
    );
    const out = execFileSync('python3', [path.join(ROOT, 'deploy/signing/sign.py'), key, bundle], {
      encoding: 'utf8',
    });
    const envelope = JSON.parse(out) as { key_id: string };
    assert.equal(envelope.key_id, keyId);
    const trusted = [readFileSync(`${key}.pub`, 'utf8')];
    assert.deepEqual(openEnvelope(out, trusted), readFileSync(bundle));
    // Another key's signature under this id is refused.
    const other = path.join(dir, 'other.key');
    assert.equal((await runBin(['keygen', '-o', other])).code, 0);
    const forged = JSON.parse(
      execFileSync('python3', [path.join(ROOT, 'deploy/signing/sign.py'), other, bundle], {
        encoding: 'utf8',
      }),
    ) as { signature: string };
    assert.throws(
      () => openEnvelope(JSON.stringify({ ...envelope, signature: forged.signature }), trusted),
      /PITCREW_SIGNATURE|does not match/,
    );
  });
});
