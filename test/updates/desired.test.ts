import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { FakeClock } from '../../agent/core/clock.js';
import { DesiredFile, openDesired } from '../../agent/updates/desired.js';
import { UpdateManager } from '../../agent/updates/manager.js';
import { agentWith } from '../helpers/agent.js';
import { tmpDir } from '../helpers/tmp.js';
import { signedDesired, signingKey } from '../helpers/updates.js';
import { waitFor } from '../helpers/wait.js';

const desired = { messageType: 'desiredStatus', sequence: 1, services: [] };

describe('desired status intake', () => {
  test('a signed, well-formed desired status opens; every other kind is refused with its reason', () => {
    const dir = tmpDir();
    const key = signingKey(dir);
    const keys = [key.pubFile, signingKey(dir, 'other').pubFile].map((f) => readFileSync(f, 'utf8'));
    assert.deepEqual(openDesired(signedDesired(desired, key.privatePem), keys).components, []);
    const bad: [Buffer, RegExp][] = [
      [Buffer.from(JSON.stringify(desired)), /not a signed envelope/],
      [signedDesired(desired, signingKey(dir, 'stranger').privatePem), /is not trusted/],
      [signedDesired({ messageType: 'unitStatus' }, key.privatePem), /messageType/],
      [
        signedDesired(
          {
            ...desired,
            components: [{ id: 'a', type: 'ecu', version: '1', urls: ['ftp:x'], sha256: 'zz', size: -1 }],
          },
          key.privatePem,
        ),
        /components\.0\.(urls|sha256|size)/,
      ],
      [Buffer.alloc(1_048_577, 32), /over the 1048576/],
      // In a config's words: what is missing, and what a value was instead of what it should be.
      [
        signedDesired({ ...desired, components: [{ id: 'a', version: 7 }] }, key.privatePem),
        /components\.0\.type: missing required key 'type'; components\.0\.version: expected string, got 7/,
      ],
      [signedDesired({ ...desired, sequence: 'x' }, key.privatePem), /sequence: expected number, got 'x'/],
      [
        signedDesired({ ...desired, sequence: 'y'.repeat(100_000) }, key.privatePem),
        new RegExp(`sequence: expected number, got '${'y'.repeat(64)}…'$`),
      ],
    ];
    for (const [message, why] of bad) assert.throws(() => openDesired(message, keys), why);
  });

  test('desired_file is read at start and again when an editor saves it by renaming', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'desired.json');
    writeFileSync(file, 'one');
    const seen: string[] = [];
    const f = new DesiredFile(
      file,
      (c) => seen.push(c.toString()),
      (e) => assert.fail(String(e)),
    );
    f.start();
    after(() => f.stop());
    await waitFor(() => seen.length === 1, 'the first read');
    writeFileSync(path.join(dir, '.desired.json.swp'), 'two');
    renameSync(path.join(dir, '.desired.json.swp'), file);
    await waitFor(() => seen.at(-1) === 'two', 'the saved file');
    assert.deepEqual(seen, ['one', 'two']);
  });

  test('a trusted key file that is missing stops the start, naming the key', async () => {
    const h = agentWith(
      'version: 1\nupdates:\n  trust: { keys: [missing.pub] }\n  sota: {}\n',
      new FakeClock(),
    );
    h.agent.use(new UpdateManager(h.agent.context(h.agent.config.updates!)), 'updates');
    await assert.rejects(h.agent.start(), (e: Error & { code?: string; key?: string }) => {
      assert.equal(e.code, 'PITCREW_START_FAILED');
      assert.equal(e.key, 'updates.trust.keys.0');
      assert.match(e.message, /missing\.pub: ENOENT/);
      return true;
    });
  });
});
