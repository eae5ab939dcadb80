/**
 * Disk housekeeping (DESIGN §13) on a small tmpfs as `data_dir`, through the installed command:
 * retention by age and size per kind, then the free-space floor taking the oldest data of the
 * lowest-priority kind first, never the newest bundle or the last-known-good config.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Event } from '../../agent/core/bus.js';
import { expired, floorBytes, toFree } from '../../agent/storage/retention.js';
import { runBin, startCli } from '../helpers/cli.js';
import { tagged } from '../helpers/desired-unit.js';
import { configFile } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const KB = 1024;
const HOUR = 3_600_000;

describe('retention rules', () => {
  const f = (kind: 'logs' | 'drives', name: string, size: number, mtime: number) => ({
    path: name,
    kind,
    size,
    mtime,
  });
  it('lets go of files past max_age, then the oldest until the kind is within max_size', () => {
    const files = [
      f('logs', 'a', 10, 0),
      f('logs', 'b', 10, 5 * HOUR),
      f('drives', 'c', 50, 1),
      f('drives', 'd', 50, 2),
    ];
    const out = expired(files, { logs: { max_age: HOUR }, drives: { max_size: 60 } }, 5 * HOUR + 1);
    assert.deepEqual(
      out.map((x) => x.path),
      ['a', 'c'],
    );
  });
  it('frees the lowest-priority kind first, oldest first, only as much as needed', () => {
    const files = [
      f('drives', 'd1', 100, 1),
      f('logs', 'l2', 10, 9),
      f('logs', 'l1', 10, 2),
      f('drives', 'd0', 100, 0),
    ];
    assert.deepEqual(
      toFree(files, 15, ['logs', 'drives']).map((x) => x.path),
      ['l1', 'l2'],
    );
    assert.deepEqual(
      toFree(files, 120, ['logs', 'drives']).map((x) => x.path),
      ['l1', 'l2', 'd0'],
    );
    assert.equal(floorBytes('10%', 1000), 100);
    assert.equal(floorBytes(300, 1000), 300);
  });
});

describe('disk housekeeping on a tmpfs', () => {
  it('applies retention, then keeps the floor taking logs before drives before bundles; the newest bundle and last-known-good stay', async () => {
    if (process.getuid?.() !== 0)
      throw new Error('this test mounts a tmpfs as data_dir: run it as root (CI does)');
    // Not under the config's directory: that one is removed when the file ends, this one unmounted first.
    const data = mkdtempSync(path.join(tmpdir(), 'pitcrew-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', data]);
    const agents: ReturnType<typeof startCli>[] = [];
    after(async () => {
      for (const a of agents) {
        a.child.kill('SIGKILL');
        await a.exited;
      }
      execFileSync('umount', [data]);
      rmSync(data, { recursive: true, force: true });
    });
    const { file } = configFile(
      (d) => `version: 1
unit: { id: h1, data_dir: ${data} }
control: { socket: ${d}/ctl.sock }
storage:
  min_free: 50%
  every: 100ms
  keep: { logs: { max_age: 1h }, drives: { max_size: 1MB } }
`,
    );
    const put = (rel: string, size: number, ageMs: number) => {
      const p = path.join(data, rel);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, Buffer.alloc(size, 1));
      const t = (Date.now() - ageMs) / 1000;
      utimesSync(p, t, t);
    };
    put('logs/old.log', 10 * KB, 2 * HOUR);
    put('logs/new.log', 100 * KB, 60_000);
    for (const [i, age] of [4, 3, 2, 1].entries()) put(`drives/d${i}.jsonl`, 400 * KB, age * 60_000);
    put('rollout/bundle-1/bundle.json', 10 * KB, 10 * 60_000);
    put('rollout/bundle-2/bundle.json', 10 * KB, 5 * 60_000);
    for (const [d, age] of [
      ['bundle-1', 10],
      ['bundle-2', 5],
    ] as const) {
      const t = (Date.now() - age * 60_000) / 1000;
      utimesSync(path.join(data, 'rollout', d), t, t);
    }
    put('last-known-good.json', 5 * KB, 10 * 60_000);

    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    agents.push(agent);
    const first = JSON.parse(await agent.waitFor(tagged('system/storage/cleaned'))) as Event;
    assert.deepEqual(first.data, {
      reason: 'retention',
      kinds: { logs: 1, drives: 2 },
      files: 3,
      bytes: 810 * KB,
      records: 0,
    });
    assert.deepEqual(readdirSync(path.join(data, 'drives')).sort(), ['d2.jsonl', 'd3.jsonl']);

    // Something outside any kind fills the disk: the floor takes the lowest priority first.
    writeFileSync(path.join(data, 'filler.bin'), Buffer.alloc(3500 * KB, 1));
    const low = JSON.parse(await agent.waitFor(tagged('system/storage/low'))) as Event;
    assert.ok(Number(low.data.free) < Number(low.data.floor));
    await agent.waitFor(
      (l) => tagged('system/storage/cleaned')(l) && l.includes('below the free-space floor'),
    );
    const left = (d: string) => (existsSync(path.join(data, d)) ? readdirSync(path.join(data, d)) : []);
    await waitFor(
      () => left('logs').length === 0,
      'the logs deleted first',
      () => agent.stderr(),
    );
    if (left('rollout').length < 2) assert.deepEqual(left('drives'), [], 'drives before bundles');
    assert.ok(existsSync(path.join(data, 'rollout/bundle-2/bundle.json')), 'the newest bundle stays');
    assert.ok(existsSync(path.join(data, 'last-known-good.json')), 'the last-known-good config stays');
    const status = JSON.parse((await runBin(['status', '-c', file])).stdout);
    assert.ok(status.disk.cleaned.files >= 4, JSON.stringify(status.disk));
    assert.equal(status.disk.total, 8 * 1024 * KB);
  });
});
