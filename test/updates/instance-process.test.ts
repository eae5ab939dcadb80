/**
 * One service instance on a fake clock (DESIGN §14): `active` only once it stayed up 2 s, a
 * failure restarted after the backoff, and a stop that SIGTERM does not end ends with SIGKILL
 * after the stop timeout. Real processes; entry points read from directories the test writes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FakeClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/logger.js';
import { entryPoint } from '../../agent/updates/instances/entry.js';
import {
  ACTIVE_AFTER_MS,
  InstanceProcess,
  type InstanceState,
} from '../../agent/updates/instances/instance.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const restart = { delay: 1000, max_delay: 8000, factor: 2, jitter: 0 };

function instance(clock: FakeClock, dir: string, run: string[]) {
  const states: InstanceState[] = [];
  const p = new InstanceProcess(
    { serviceId: 's', subjectId: 'subj', instance: 0, version: '1' },
    {
      clock,
      log: silentLogger,
      restart,
      stopTimeout: 5000,
      entry: async () => ({ argv: run, env: { MARK: dir }, cwd: dir }),
      onState: (q) => states.push(q.state),
    },
  );
  return { p, states };
}

describe('a service instance', () => {
  it('is active only after 2 s up, restarts after the backoff, and is SIGKILLed when SIGTERM does not end it', async () => {
    const clock = new FakeClock();
    const dir = tmpDir();
    // Ignores SIGTERM (and so does its sleep); marks each start; exits 5 on the first run only.
    const run = [
      'sh',
      '-c',
      'trap "" TERM; echo $$ >> "$MARK/starts"; [ -e "$MARK/again" ] || { touch "$MARK/again"; exit 5; }; echo $PITCREW_INSTANCE > "$MARK/env.new"; mv "$MARK/env.new" "$MARK/env"; exec sleep 600',
    ];
    const { p, states } = instance(clock, dir, run);
    try {
      p.start();
      await waitFor(() => p.state === 'failed', 'the first run fails');
      assert.equal(p.error?.exitCode, 5);
      assert.equal(p.earlyExits, 1);
      await clock.advance(999);
      assert.equal(
        readFileSync(path.join(dir, 'starts'), 'utf8').trim().split('\n').length,
        1,
        'not before the backoff',
      );
      await clock.advance(1);
      await waitFor(() => existsSync(path.join(dir, 'env')), 'the second run is up');
      assert.equal(readFileSync(path.join(dir, 'env'), 'utf8').trim(), '0');
      assert.equal(p.state, 'activating');
      await clock.advance(ACTIVE_AFTER_MS);
      assert.equal(p.state, 'active');
      assert.equal(p.wasActive, true);

      const pid = Number(readFileSync(path.join(dir, 'starts'), 'utf8').trim().split('\n')[1]);
      const stopped = p.stop();
      // SIGTERM is ignored: still there until the stop timeout passes.
      await new Promise((r) => setImmediate(r));
      assert.doesNotThrow(() => process.kill(pid, 0));
      await clock.advance(5000);
      await stopped;
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
      assert.deepEqual(states, ['activating', 'failed', 'activating', 'active', 'inactive']);
    } finally {
      // Whatever a failed assertion left running ends with the test: a live child holds the file open.
      const starts = path.join(dir, 'starts');
      for (const pid of existsSync(starts) ? readFileSync(starts, 'utf8').trim().split('\n').map(Number) : [])
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {}
    }
  });

  it('reports a program that cannot start as failed with 127', async () => {
    const clock = new FakeClock();
    const { p } = instance(clock, tmpDir(), ['/nonexistent/program']);
    p.start();
    await waitFor(() => p.state === 'failed', 'failed');
    assert.equal(p.error?.exitCode, 127);
    assert.match(p.error!.message, /could not be started \(\/nonexistent\/program: .*ENOENT/);
    await p.stop();
  });
});

describe('entry points', () => {
  it('reads pitcrew-service.yaml, resolving ./ programs in the service directory', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'pitcrew-service.yaml'), 'run: [./app, --flag]\nenv: { A: "1" }\n');
    assert.deepEqual(await entryPoint(dir), {
      argv: [path.join(dir, 'app'), '--flag'],
      env: { A: '1' },
      cwd: dir,
    });
  });

  it('refuses a directory with neither, and a manifest that is not one, saying what is expected', async () => {
    const dir = tmpDir();
    await assert.rejects(entryPoint(dir), {
      code: 'PITCREW_INSTANCE_ENTRY',
      message: /neither an OCI image layout/,
    });
    writeFileSync(path.join(dir, 'pitcrew-service.yaml'), 'run: []\n');
    await assert.rejects(entryPoint(dir), { code: 'PITCREW_INSTANCE_ENTRY', message: /run:/ });
    mkdirSync(path.join(dir, 'blobs'));
    writeFileSync(path.join(dir, 'oci-layout'), '{}');
    writeFileSync(path.join(dir, 'index.json'), '{"manifests":[{"digest":"sha256:../../etc"}]}');
    await assert.rejects(entryPoint(dir), { code: 'PITCREW_INSTANCE_ENTRY', message: /OCI image index/ });
  });
});
