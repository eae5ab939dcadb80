/**
 * The installed command under a stand-in for systemd: a unix datagram socket named by
 * NOTIFY_SOCKET receives READY, STATUS, WATCHDOG pings from the event loop (none while it is
 * frozen) and STOPPING.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/agent.js';
import { ROOT, runBin, startCli } from '../helpers/cli.js';
import { configFile } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

interface Receiver {
  bind(path: string): void;
  close(): void;
}
const dgram = createRequire(import.meta.url)('unix-dgram') as {
  createSocket(type: 'unix_dgram', onMessage: (msg: Buffer) => void): Receiver;
};

describe('systemd notify (real process, datagram socket)', () => {
  it('READY with a status line, watchdog pings from the loop (none while frozen), STOPPING', async () => {
    const { dir, file } = configFile(
      (dir) => `version: 1
unit: { id: sd-1, data_dir: var }
control: { socket: ${dir}/ctl.sock }
services:
  obd: { driver: sim-vehicle, settings: {} }
  busy: { driver: module, settings: { module: ${FIXTURES}/modules/blocker.mjs } }
`,
    );
    const notify = path.join(dir, 'notify.sock');
    const got: { at: number; msg: string }[] = [];
    const sock = dgram.createSocket('unix_dgram', (m) => got.push({ at: Date.now(), msg: m.toString() }));
    sock.bind(notify);
    after(() => sock.close());
    const agent = startCli(['run', '-c', file], {
      runner: 'bin',
      env: { NOTIFY_SOCKET: notify, WATCHDOG_USEC: '200000' },
    });
    after(() => agent.child.kill('SIGKILL'));
    await waitFor(
      () => got.some((g) => g.msg.startsWith('READY=1')),
      'READY=1',
      () => agent.stderr(),
    );
    const ready = got.find((g) => g.msg.startsWith('READY=1'))!.msg;
    assert.match(
      ready,
      new RegExp(`^READY=1\\nMAINPID=${agent.child.pid}\\nSTATUS=2/2 services running, cloud off, 0 queued$`),
    );
    const pings = () => got.filter((g) => g.msg.startsWith('WATCHDOG=1'));
    await waitFor(() => pings().length >= 3, 'three watchdog pings');
    assert.match(pings()[0]!.msg, /^WATCHDOG=1\nSTATUS=2\/2 services running/);
    // Freeze the loop for 800 ms: no ping in that time (systemd would restart the unit).
    const before = pings().length;
    const blocked = await runBin(['call', '-c', file, 'busy', 'block', '{"ms":800}']);
    assert.equal(blocked.code, 0, blocked.stderr);
    await waitFor(() => pings().length >= before + 2, 'pings again');
    const at = pings().map((p) => p.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    assert.ok(Math.max(...gaps) >= 700, `the longest gap between pings: ${Math.max(...gaps)} ms`);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
    await waitFor(() => got.some((g) => g.msg.startsWith('STOPPING=1')), 'STOPPING=1');
  });
});

describe('the systemd unit file (deploy/pitcrew.service)', () => {
  const unit = path.join(ROOT, 'deploy/pitcrew.service');

  it('verifies, and systemd-analyze security rates it 2.5 or lower', () => {
    const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.doesNotMatch(verify.stderr, /pitcrew\.service/, 'no warning about the unit');
    const security = spawnSync('systemd-analyze', ['security', '--offline=yes', unit], { encoding: 'utf8' });
    const level = /Overall exposure level for pitcrew\.service: ([\d.]+)/.exec(security.stdout);
    assert.ok(level, security.stdout + security.stderr);
    assert.ok(Number(level[1]) <= 2.5, `exposure ${level[1]}:\n${security.stdout}`);
  });
});
