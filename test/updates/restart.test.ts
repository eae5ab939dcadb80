/**
 * The agent process really killed (SIGKILL) in each update state and started again, through the
 * installed command: each machine resumes where its persisted record says. The desired status
 * comes from `updates.desired_file`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Event } from '../../agent/core/bus.js';
import { artifactServer } from '../helpers/artifact-server.js';
import { runBin, startCli } from '../helpers/cli.js';
import { configFile } from '../helpers/tmp.js';
import { signedDesired, signingKey, tarGz } from '../helpers/updates.js';
import { waitFor } from '../helpers/wait.js';

const tagged = (tag: string) => (l: string) => l.startsWith('{') && (JSON.parse(l) as Event).tag === tag;

async function unit(updates: string) {
  const http = await artifactServer();
  const { dir, file } = configFile(
    (d) => `version: 1
unit: { id: r-1, data_dir: var }
control: { socket: ${d}/ctl.sock }
updates:
  trust: { keys: [update.pub] }
  desired_file: desired.json
  grpc: { listen: "unix:update.sock" }
  download: { dir: dl, retry: { min: 100ms, max: 1s } }
${updates.replaceAll('$DIR', d).replace(/^/gm, '  ')}
`,
  );
  const key = signingKey(dir);
  let sequence = 0;
  const desire = (payload: Record<string, unknown>) =>
    writeFileSync(
      path.join(dir, 'desired.json'),
      signedDesired({ sequence: ++sequence, ...payload }, key.privatePem),
    );
  const start = () => {
    const a = startCli(['run', '-c', file, '--events'], { runner: 'bin', group: true });
    after(() => a.killGroup());
    return a;
  };
  // The agent and what it started (an installer), as systemd's restart of a failed service kills its cgroup.
  const kill = async (a: ReturnType<typeof start>) => {
    a.killGroup();
    await a.exited;
  };
  const status = async () => {
    const r = await runBin(['update', 'status', '-c', file]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as {
      fota?: { state: string; update: { items: { status: string }[] } | null };
      sota?: { state: string };
      installed: { id: string; version: string; status: string }[];
      grpc: string[];
    };
  };
  return { http, dir, file, desire, start, kill, status };
}

/**
 * A unit whose FOTA installer runs `before` (it writes to `$DIR/runs`), waits for `$DIR/go`, flashes
 * and runs `after`; ecu-main at `version` desired.
 */
async function waitingInstaller(version: string, before: string, after = '') {
  const u = await unit(
    `fota:\n  schedule: { type: force }\n  installers: [{ match: { type: ecu }, command: [sh, -c, '${before}; i=0; while [ ! -f $DIR/go ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i+1)); done; cp "$0" $DIR/flashed${after}', "{{ file }}"] }]`,
  );
  const body = Buffer.from(`firmware ${version}`);
  u.desire({
    messageType: 'desiredStatus',
    components: [{ id: 'ecu-main', type: 'ecu', version, ...u.http.serve('fw.bin', body) }],
  });
  return { u, body, runsFile: path.join(u.dir, 'runs') };
}

describe('a restart in each update state (kill -9, installed command)', () => {
  it('downloading: the download continues from its partial file', async () => {
    const u = await unit('sota: { schedule: { type: force }, installer: { type: directory, root: apps } }');
    // Random content: the archive does not compress to nothing, so it takes a few seconds to serve.
    const body = tarGz([{ name: 'run', body: randomBytes(300_000).toString('base64') }]);
    const nav = {
      id: 'nav',
      version: '1',
      ...u.http.serve('nav.tgz', body, { kind: 'slow', chunk: 2000, everyMs: 10 }),
    };
    u.desire({ messageType: 'desiredStatus', services: [nav] });
    const first = u.start();
    await first.waitFor(tagged('system/update/sota/downloading'));
    const part = path.join(u.dir, 'dl', `${nav.sha256}.part`);
    await waitFor(() => existsSync(part) && statSync(part).size > 20_000, 'part of the file');
    await u.kill(first);
    const had = statSync(part).size;
    const second = u.start();
    await second.waitFor(tagged('system/update/sota/noUpdate'), 30_000);
    const ranges = u.http.requests.filter((r) => r.path === '/nav.tgz').map((r) => r.range);
    assert.equal(ranges[0], undefined);
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(ranges.at(-1) ?? '')?.[1]);
    assert.ok(resumedFrom >= had, `resumed from ${resumedFrom}, the partial file had ${had}`);
    assert.deepEqual(
      (await u.status()).installed.map((i) => `${i.id}@${i.version}:${i.status}`),
      ['nav@1:installed'],
    );
    await u.kill(second);
  });

  it('readyToUpdate: waits for its trigger again; noUpdate: stays, and the same desired status is not installed twice', async () => {
    const u = await unit('sota: { schedule: { type: trigger }, installer: { type: directory, root: apps } }');
    const nav = {
      id: 'nav',
      version: '1',
      ...u.http.serve('nav.tgz', tarGz([{ name: 'run', body: 'nav' }])),
    };
    u.desire({ messageType: 'desiredStatus', services: [nav] });
    const first = u.start();
    await first.waitFor(tagged('system/update/sota/readyToUpdate'));
    await u.kill(first);
    const second = u.start();
    await second.waitFor(tagged('system/agent/started'));
    const ready = await u.status();
    assert.equal(ready.sota?.state, 'readyToUpdate');
    assert.deepEqual(
      ready.grpc,
      [`unix:${path.join(u.dir, 'update.sock')}`],
      'the installed command serves the gRPC API',
    );
    const started = await runBin(['update', 'start', 'sota', '-c', u.file]);
    assert.equal(started.code, 0, started.stderr);
    await second.waitFor(tagged('system/update/sota/noUpdate'));
    await u.kill(second);
    const third = u.start();
    await third.waitFor(tagged('system/update/desired'));
    const st = await u.status();
    assert.equal(st.sota?.state, 'noUpdate');
    assert.deepEqual(
      st.installed.map((i) => `${i.id}@${i.version}`),
      ['nav@1'],
    );
    assert.ok(!third.lines.some(tagged('system/update/sota/downloading')), 'not fetched again');
    assert.equal(u.http.requests.filter((r) => r.path === '/nav.tgz').length, 1);
    await u.kill(third);
  });

  it('updating: the install step runs again', async () => {
    const { u, body, runsFile } = await waitingInstaller('2.1.0', 'echo run >> $DIR/runs');
    const first = u.start();
    await first.waitFor(tagged('system/update/fota/updating'));
    await waitFor(() => existsSync(runsFile), 'the installer to start');
    await u.kill(first);
    const second = u.start();
    await second.waitFor(tagged('system/agent/started'));
    await waitFor(() => readFileSync(runsFile, 'utf8') === 'run\nrun\n', 'the install step to run again');
    assert.equal((await u.status()).fota?.state, 'updating');
    writeFileSync(path.join(u.dir, 'go'), '');
    await second.waitFor(tagged('system/update/fota/noUpdate'));
    assert.deepEqual(readFileSync(path.join(u.dir, 'flashed')), body);
    assert.deepEqual(
      (await u.status()).installed.map((i) => `${i.id}:${i.status}`),
      ['ecu-main:installed'],
      JSON.stringify((await u.status()).installed),
    );
    await u.kill(second);
  });

  it('updating, the agent alone killed (no systemd to end its installer): the next agent waits for that installer, then runs the step again', async () => {
    const { u, body, runsFile } = await waitingInstaller(
      '2.2.0',
      'echo run $$ >> $DIR/runs',
      '; echo end $$ >> $DIR/runs',
    );
    const lines = () => (existsSync(runsFile) ? readFileSync(runsFile, 'utf8').trim().split('\n') : []);
    const first = u.start();
    await first.waitFor(tagged('system/update/fota/updating'));
    await waitFor(() => lines().length === 1, 'the installer to start');
    const orphan = Number(lines()[0]!.split(' ')[1]);
    first.child.kill('SIGKILL');
    await first.exited;
    process.kill(orphan, 0); // it outlived its agent
    const second = u.start();
    await second.waitFor(tagged('system/agent/started'));
    await waitFor(
      () => second.stderr().includes(`(pid ${orphan}) still runs: installs wait until it ends`),
      'the next agent to find the installer still running',
      second.stderr,
    );
    writeFileSync(path.join(u.dir, 'go'), '');
    await second.waitFor(tagged('system/update/fota/noUpdate'));
    const [, , again] = lines();
    assert.deepEqual(lines(), [`run ${orphan}`, `end ${orphan}`, again, again!.replace('run', 'end')]);
    assert.notEqual(again, `run ${orphan}`);
    assert.deepEqual(readFileSync(path.join(u.dir, 'flashed')), body);
    assert.deepEqual(readdirSync(path.join(u.dir, 'var', 'installers')), []);
    await u.kill(second);
  });

  it('a damaged updates.db is begun again with its replay floor, kept in a file of its own: a replayed desired status is still refused, a new one installs; without the floor the start stops and says what to do', async () => {
    const u = await unit('sota: { schedule: { type: force }, installer: { type: directory, root: apps } }');
    const nav = (version: string) => ({
      id: 'nav',
      version,
      ...u.http.serve(`nav-${version}.tgz`, tarGz([{ name: 'run', body: `nav ${version}` }])),
    });
    // nav at `version` installed: the machine back at noUpdate after updating to it.
    const installed = (version: string) => (l: string, i: number, lines: string[]) =>
      tagged('system/update/sota/noUpdate')(l) &&
      lines
        .slice(0, i)
        .some(
          (u) =>
            tagged('system/update/sota/updating')(u) &&
            (JSON.parse(u) as { data: { items: { version: string }[] } }).data.items[0]?.version === version,
        );
    const desiredFile = path.join(u.dir, 'desired.json');
    u.desire({ messageType: 'desiredStatus', services: [nav('1')] });
    const old = readFileSync(desiredFile);
    let a = u.start();
    await a.waitFor(installed('1'));
    u.desire({ messageType: 'desiredStatus', services: [nav('2')] });
    await a.waitFor(installed('2'));
    await u.kill(a);
    const db = path.join(u.dir, 'var', 'updates.db');
    // Its log is gone too, else SQLite would read the pages it holds in place of the damaged ones.
    const damage = () => {
      writeFileSync(db, Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(8176)]));
      for (const log of ['-wal', '-shm']) rmSync(db + log, { force: true });
    };
    damage();
    writeFileSync(desiredFile, old); // sequence 1, captured: a replay
    a = u.start();
    const refused = await a.waitFor(tagged('system/update/rejected'));
    assert.match(
      String((JSON.parse(refused) as { data: { reasons: string[] } }).data.reasons),
      /sequence 1 is not newer than the last one taken \(2\): a replay/,
    );
    assert.match(a.stderr(), new RegExp(`${db} is damaged \\([^)]+\\): moved aside to ${db}\\.damaged-\\d+`));
    assert.deepEqual((await u.status()).installed, [], 'what the database held is lost');
    u.desire({ messageType: 'desiredStatus', services: [nav('3')] });
    await a.waitFor(installed('3'));
    assert.deepEqual(
      (await u.status()).installed.map((i) => `${i.id}@${i.version}`),
      ['nav@3'],
    );
    await u.kill(a);
    // Both copies lost: the unit cannot tell a replay, so it does not start, and says why.
    damage();
    rmSync(path.join(u.dir, 'var', 'updates-floor.json'));
    a = u.start();
    assert.equal(await a.exited, 1);
    assert.match(a.stderr(), /PITCREW_UPDATES_FLOOR_LOST/);
    assert.match(a.stderr(), /Restore .*updates-floor\.json, or move .*updates\.db aside/);
  });
});
