/**
 * Installer processes an earlier agent left running (killed outside systemd): recorded by pid and
 * start time, waited for before anything is installed, stopped past the longest installer timeout.
 * Real processes throughout.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { InstallerProcesses } from '../../agent/updates/installers/processes.js';
import { tmpDir } from '../helpers/tmp.js';

const quiet = pino({ level: 'silent' });

/** A process that runs until told otherwise, reaped by this test process. */
function running(argv = ['sleep', '30']): ChildProcess & { ended: Promise<NodeJS.Signals | null> } {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  after(() => child.kill('SIGKILL'));
  return Object.assign(child, {
    ended: new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, sig) => r(sig))),
  });
}

describe('installer processes left by an earlier agent', () => {
  it('records a started installer by pid and start time, and forgets it when it ends', async () => {
    const dir = tmpDir();
    const procs = new InstallerProcesses(dir, quiet, 60_000);
    const child = running();
    procs.track(child.pid!);
    assert.deepEqual(readdirSync(dir), [String(child.pid)]);
    procs.untrack(child.pid!);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('waits for one still running; records of ended processes and reused pids are dropped at once', async () => {
    const dir = tmpDir();
    const earlier = new InstallerProcesses(dir, quiet, 60_000);
    const left = running();
    earlier.track(left.pid!);
    const gone = running(['true']);
    earlier.track(gone.pid!);
    await gone.ended;
    // A pid now held by another process than the one recorded (same pid, other start time).
    const reused = running();
    writeFileSync(path.join(dir, String(reused.pid)), '1');

    const next = new InstallerProcesses(dir, quiet, 60_000);
    assert.deepEqual(readdirSync(dir), [String(left.pid)]);
    let settled = false;
    void next.earlierEnded.then(() => {
      settled = true;
    });
    // Still waiting while the earlier installer runs: it has not ended, so nothing may settle.
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false);
    left.kill('SIGTERM');
    await next.earlierEnded;
    assert.equal(existsSync(path.join(dir, String(left.pid))), false);
    assert.equal(reused.exitCode, null, 'a process that only reuses a recorded pid is left alone');
  });

  it('an entry that is no record (a directory) is said and left; the start goes on', async () => {
    const dir = tmpDir();
    mkdirSync(path.join(dir, '4242'));
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
    await new InstallerProcesses(dir, log, 60_000).earlierEnded;
    assert.match(warnings.join('\n'), /4242: not an installer record: EISDIR/);
    assert.deepEqual(readdirSync(dir), ['4242']);
  });

  it('stops one that outlives the longest installer timeout: SIGTERM', async () => {
    const dir = tmpDir();
    const left = running();
    new InstallerProcesses(dir, quiet, 60_000).track(left.pid!);
    const next = new InstallerProcesses(dir, quiet, 300);
    await next.earlierEnded;
    assert.equal(await left.ended, 'SIGTERM');
    assert.deepEqual(readdirSync(dir), []);
  });

  it('SIGKILLs one that ignores SIGTERM', async () => {
    const dir = tmpDir();
    const left = running(['sh', '-c', "trap '' TERM; while :; do sleep 0.05; done"]);
    new InstallerProcesses(dir, quiet, 60_000).track(left.pid!);
    const next = new InstallerProcesses(dir, quiet, 100);
    await next.earlierEnded;
    assert.equal(await left.ended, 'SIGKILL');
  });
});
