import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Outbox } from '../../agent/cloud/outbox.js';
import { silentLogger } from '../../agent/core/logger.js';
import { StateStore } from '../../agent/core/state-store.js';
import { UpdateStore } from '../../agent/updates/store.js';
import { agentFor } from '../helpers/agent.js';
import { runBin, runCli, startCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

/** A real, small filesystem: a tmpfs of `kb` KiB (the tests run as root, as CI does). */
function smallDisk(kb: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `cannot mount a small tmpfs for the full-disk test: ${r.stderr}`);
  after(() => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fills the rest of `disk`; the file that fills it, to remove when room is to return. */
function fillUp(disk: string): string {
  const filler = path.join(disk, 'filler');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
  } catch {
    // dd stops when the disk is full: that is the point.
  }
  return filler;
}

/** A unit's config in `dir`: the simulated car's speed every 50 ms, emitted and queued for the cloud, and `rule`. */
function speedUnit(dir: string, dataDir: string, rule: string): string {
  const file = path.join(dir, 'p.yaml');
  writeFileSync(
    file,
    `version: 1
unit: { data_dir: ${dataDir} }
control: { socket: ${dir}/ctl.sock }
services:
  obd:
    driver: sim-vehicle
    settings: {}
    workers: [{ name: w, interval: 50ms, messages: [{ handler: query, args: { pid: SPEED }, returner: [emit, cloud] }] }]
reactor: { rules: [${rule}] }
`,
  );
  return file;
}

describe('storage', () => {
  it('a full disk is loud: failed writes are dropped, counted, logged and emitted; writing resumes when space returns', async () => {
    const disk = smallDisk(1024);
    const dataDir = path.join(disk, 'var');
    const { agent, clock, events } = agentFor(`
version: 1
unit: { data_dir: ${dataDir} }
services:
  obd:
    driver: sim-vehicle
    settings: { cycle: highway }
    workers:
      - { name: w, interval: 10ms, messages: [{ handler: query, args: { pid: SPEED }, returner: cloud }] }
`);
    after(() => agent.stop());
    await agent.start();
    const filler = fillUp(disk);
    for (let i = 0; i < 300; i++) await clock.advance(10);
    const status = agent.status();
    assert.ok(status.outbox.dropped > 0, `dropped: ${status.outbox.dropped}`);
    const file = path.join(dataDir, 'outbox.db');
    assert.ok(status.storage[file]!.failures > 0);
    assert.match(status.storage[file]!.last, /full/);
    const reported = events.filter((e) => e.tag === 'system/storage/error');
    assert.ok(reported.length >= 1 && reported.length < 10, `reports: ${reported.length} (rate-limited)`);
    assert.equal(reported[0]!.data.file, file);
    // Space returns: records are accepted again.
    spawnSync('rm', ['-f', filler]);
    const before = agent.status().outbox.queued;
    for (let i = 0; i < 50; i++) await clock.advance(10);
    assert.ok(agent.status().outbox.queued > before, 'writing resumed');
  });

  it('a transient full disk costs no accepted record: the counts are what committed, and no accepted record is evicted', async () => {
    const disk = smallDisk(1024);
    const errors: unknown[] = [];
    const dropped: number[] = [];
    const outbox = new Outbox(
      disk,
      { maxRecords: 1000, maxBytes: 256 * 1024 ** 2 },
      { onWriteError: (_f, e) => errors.push(e), onDropped: (n) => dropped.push(n) },
    );
    after(() => outbox.close());
    // What the database holds, read through the outbox's own connection (it holds the file alone).
    const rows = () => {
      const all = outbox.read(0, 1_000_000);
      return { n: all.length, b: all.reduce((sum, r) => sum + r.size, 0) };
    };
    const push = (n: number, from: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          outbox.push('obd', { type: 'speed', value: from + i, ts: from + i }),
        ),
      );
    await push(600, 0);
    assert.deepEqual(rows(), { n: outbox.size, b: outbox.sizeBytes });
    const filler = fillUp(disk);
    await push(600, 1000);
    assert.ok(errors.length > 0, 'the writes failed');
    assert.equal(outbox.size, 600, 'the failed writes are not counted');
    spawnSync('rm', ['-f', filler]);
    await push(100, 2000);
    assert.equal(outbox.size, 700);
    assert.deepEqual(rows(), { n: outbox.size, b: outbox.sizeBytes });
    assert.deepEqual(dropped, [], 'no accepted record was evicted to make room');
  });

  it('a unit whose card is full still starts: its databases open, each write that fails is said, and writing resumes when there is room, through the installed command', async () => {
    const disk = smallDisk(2048);
    const dir = tmpDir();
    const dataDir = path.join(disk, 'var');
    const config = (rule: string) =>
      speedUnit(
        dir,
        dataDir,
        `{ name: ${rule}, on: vehicle/obd/speed, do: [{ state: { set: speed, value: '{{ event.data.value }}' } }, { emit: { tag: seen, data: { speed: '{{ state.speed }}' } } }] }`,
      );
    const file = config('first');
    let agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor((l) => l.includes('"tag":"seen"'));
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
    const filler = fillUp(disk);
    config('second'); // a config changed: its last known good cannot be written either
    agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    await agent.waitFor((l) => l.includes('"tag":"seen"'));
    for (const name of ['outbox.db', 'state.db', 'last-known-good.json'])
      await agent.waitFor((l) => l.includes(`cannot write ${path.join(dataDir, name)}`), 20_000, 'stderr');
    // The rules go on with the state they set, which the card could not take.
    const since = agent.lines.length;
    const seen = await agent.waitFor((l, i) => i >= since && l.includes('"tag":"seen"'));
    assert.equal(typeof (JSON.parse(seen) as { data: { speed: unknown } }).data.speed, 'number', seen);
    assert.deepEqual(
      readdirSync(dataDir).filter((n) => n.endsWith('.tmp')),
      [],
      'no part of a file left to take room',
    );
    const queued = async () =>
      (JSON.parse((await runBin(['status', '--json', '-c', file])).stdout) as { outbox: { queued: number } })
        .outbox.queued;
    // What the card's last bytes took, if any.
    const full = await queued();
    rmSync(filler);
    // Each status is a run of the command: they pace the wait for records accepted again.
    let n = full;
    for (const until = Date.now() + 20_000; n === full && Date.now() < until; ) n = await queued();
    assert.ok(n > full, 'records accepted again once there is room');
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
  });

  it('a unit whose card the kernel remounted read-only runs on from memory, with what the card held (a crash’s log too), and says so, through the installed command', async () => {
    const disk = smallDisk(4096);
    const dir = tmpDir();
    const dataDir = path.join(disk, 'var');
    let file = speedUnit(
      dir,
      dataDir,
      '{ name: keep, on: vehicle/obd/speed, do: [{ state: { set: before, value: kept } }, { emit: { tag: stored } }] }',
    );
    let agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor((l) => l.includes('"tag":"stored"'));
    // A crash (the card failing): what the agent wrote is in the databases' logs alone.
    agent.child.kill('SIGKILL');
    await agent.exited;
    assert.ok(statSync(path.join(dataDir, 'state.db-wal')).size > 0, 'the state is in the log');
    const remount = spawnSync('mount', ['-o', 'remount,ro', disk], { encoding: 'utf8' });
    assert.equal(remount.status, 0, remount.stderr);
    file = speedUnit(
      dir,
      dataDir,
      "{ name: tell, on: vehicle/obd/speed, do: [{ emit: { tag: seen, data: { before: '{{ state.before }}' } } }, { state: { set: now, value: 1 } }] }",
    );
    agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    const seen = JSON.parse(await agent.waitFor((l) => l.includes('"tag":"seen"'))) as {
      data: { before: string };
    };
    assert.equal(seen.data.before, 'kept', 'the state the card held');
    await agent.waitFor((l) => l.includes('PITCREW_STORAGE_READ_ONLY'), 20_000, 'stderr');
    const status = JSON.parse((await runBin(['status', '--json', '-c', file])).stdout) as {
      outbox: { queued: number };
      storage: Record<string, { last: string }>;
    };
    assert.ok(status.outbox.queued > 0, 'records queue in memory');
    assert.match(status.storage[dataDir]!.last, /read-only file system/);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
  });

  it('on a read-only card: a damaged database begins empty, a missing one too; an outbox in memory keeps no more than 50,000 records; no desired status is taken', async () => {
    const disk = smallDisk(1024);
    writeFileSync(
      path.join(disk, 'state.db'),
      'not a database, though long enough to have its header read '.repeat(4),
    );
    const faults = { storage: { damaged: assert.fail, report: assert.fail }, log: silentLogger };
    const taken = { sequence: 7, digest: 'a' };
    let updates = new UpdateStore(disk, faults);
    updates.lastDesired = taken;
    updates.close();
    assert.equal(spawnSync('mount', ['-o', 'remount,ro', disk]).status, 0);
    // A desired status cannot be taken: its replay floor could not be kept.
    updates = new UpdateStore(disk, faults);
    assert.throws(() => {
      updates.lastDesired = { sequence: 8, digest: 'b' };
    }, /EROFS/);
    assert.deepEqual(updates.lastDesired, taken);
    updates.close();
    const state = new StateStore(disk);
    state.set('x', 1);
    assert.deepEqual({ ...state.tree }, { x: 1 });
    state.close();
    const outbox = new Outbox(disk);
    after(() => outbox.close());
    await Promise.all(
      Array.from({ length: 50_010 }, (_, i) => outbox.push('obd', { type: 'speed', value: i, ts: i })),
    );
    assert.equal(outbox.size, 50_000);
    assert.equal(outbox.dropped, 10);
    assert.deepEqual(
      readdirSync(disk).sort(),
      ['state.db', 'updates-floor.json', 'updates.db'],
      'nothing written to the card',
    );
  });

  it('an error at start names the file', () => {
    const dir = tmpDir();
    const dataDir = path.join(dir, 'var');
    mkdirSync(path.join(dataDir, 'state.db'), { recursive: true });
    writeFileSync(path.join(dir, 'p.yaml'), `version: 1\nunit: { data_dir: ${dataDir} }\n`);
    const r = runCli(['run', '-c', path.join(dir, 'p.yaml')]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`PITCREW_STORAGE_OPEN\\] \\(unit\\.data_dir\\): cannot open ${dataDir}/state\\.db`),
    );
  });

  it('a damaged database (a failing card, a power cut) is moved aside and begun again: the unit starts and says so, through the installed command', async () => {
    const dir = tmpDir();
    const dataDir = path.join(dir, 'var');
    mkdirSync(dataDir);
    const damaged = {
      'agent.lock': Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(4080)]),
      'outbox.db': Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(8176)]),
      'state.db': Buffer.from('not a database, though long enough to have its header read '.repeat(4)),
    };
    for (const [name, bytes] of Object.entries(damaged)) writeFileSync(path.join(dataDir, name), bytes);
    // One damaged before: only the newest copy is kept.
    writeFileSync(path.join(dataDir, 'outbox.db.damaged-1'), 'older');
    const file = speedUnit(
      dir,
      dataDir,
      '{ name: seen, on: vehicle/obd/speed, do: [{ state: { set: seen, value: 1 } }] }',
    );
    const run = () => startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    let agent = run();
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor((l) => l.includes('"tag":"vehicle/obd/speed"'));
    for (const name of Object.keys(damaged)) {
      const f = path.join(dataDir, name);
      const said = new RegExp(
        `${f} is damaged \\([^)]+\\): moved aside to ${f}\\.damaged-\\d+, and a new one`,
      );
      await agent.waitFor((l) => said.test(l), 20_000, 'stderr');
      assert.equal(
        readdirSync(dataDir).filter((n) => new RegExp(`^${name}\\.damaged-\\d+$`).test(n)).length,
        1,
        name,
      );
    }
    const status = JSON.parse((await runBin(['status', '--json', '-c', file])).stdout) as {
      storage: Record<string, { last: string }>;
    };
    assert.deepEqual(
      Object.keys(status.storage).sort(),
      Object.keys(damaged)
        .map((n) => path.join(dataDir, n))
        .sort(),
    );
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
    // What it began again holds what the unit wrote since: a restart finds nothing damaged.
    agent = run();
    await agent.waitFor((l) => l.includes('"tag":"vehicle/obd/speed"'));
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
    assert.match(agent.stderr(), /agent stopped/);
    assert.doesNotMatch(agent.stderr(), /is damaged/);
  });

  it('keys like __proto__ and constructor are only keys', () => {
    const dir = tmpDir();
    const s = new StateStore(dir);
    s.set('__proto__', { polluted: true });
    s.set('constructor', 1);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.getOwnPropertyDescriptor(s.tree, '__proto__')?.value, { polluted: true });
    assert.equal(s.tree.constructor, 1);
    s.close();
    const again = new StateStore(dir);
    assert.deepEqual(Object.getOwnPropertyDescriptor(again.tree, '__proto__')?.value, { polluted: true });
    again.close();
  });

  it('data_dir is created 0700 and its databases 0600', async () => {
    const dir = path.join(tmpDir(), 'fresh');
    const { agent } = agentFor(`version: 1\nunit: { data_dir: ${dir} }\n`);
    await agent.start();
    await agent.stop();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const f of ['state.db', 'outbox.db', 'agent.lock'])
      assert.equal(statSync(path.join(dir, f)).mode & 0o777, 0o600, f);
  });

  it('replay reads lines with a bound: a huge line is rejected without being held, and the rest replays', () => {
    const dir = tmpDir();
    writeFileSync(
      path.join(dir, 'c.yaml'),
      'version: 1\nreactor:\n  rules:\n    - { name: r, on: a/b, do: [{ emit: { tag: a/c } }] }\n',
    );
    const file = path.join(dir, 'events.jsonl');
    const ok = `${JSON.stringify({ tag: 'a/b', data: {}, ts: 1000 })}\n`;
    writeFileSync(file, `${ok}{"tag":"a/b","data":{"x":"${'y'.repeat(64 * 1024 * 1024)}"},"ts":2000}\n${ok}`);
    // 64 MB of heap for a 64 MB line: only a bounded reader gets through.
    const r = runCli(['replay', '-c', path.join(dir, 'c.yaml'), file], {
      env: { NODE_OPTIONS: '--max-old-space-size=64' },
    });
    assert.match(r.stderr, /events\.jsonl:2: rejected: longer than 1048576 characters/);
    assert.match(r.stderr, /replayed 2 events, rejected 1 lines/);
  });
});
