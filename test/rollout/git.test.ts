/**
 * Config rollout from a real git repository made by the test (a local path, and `git daemon` on
 * 127.0.0.1): a good commit applied, a schema-invalid one rejected, a valid but unhealthy one
 * reverted after its health window, each bad commit never tried again, a newer good one applied.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { GitRolloutStatus } from '../../agent/rollout/git-rollout.js';
import { FIXTURES } from '../helpers/agent.js';
import { bundleUnit } from '../helpers/bundle-unit.js';
import { runBin, startCli } from '../helpers/cli.js';
import { appliesOver, config, repo, rolloutAgent } from '../helpers/git-repo.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

describe('git rollout', () => {
  it('applies good commits, rejects a broken one, reverts an unhealthy one, and never retries either', async () => {
    const { origin, commit } = repo();
    const home = tmpDir('pitcrew-unit-');
    const a = commit(
      config(home, origin, 'reactor: { rules: [{ name: r1, on: x, do: [{ emit: { tag: y } }] }] }\n'),
      'good',
    );
    const { agent, rollout } = await rolloutAgent(home, origin, '');
    const s = () => rollout.status() as GitRolloutStatus;
    await waitFor(
      () => s().commit === a,
      'the first commit',
      () => JSON.stringify(s()),
    );
    assert.deepEqual(
      agent.reactor.list().map((r) => r.name),
      ['r1'],
    );

    const b = commit(config(home, origin, 'reactor: { rules: [{ name: r1, on: x, doo: [] }] }\n'), 'broken');
    await waitFor(
      () => s().last?.commit === b,
      'the broken commit tried',
      () => JSON.stringify(s()),
    );
    assert.equal(s().last!.status, 'rejected');
    assert.match(s().last!.errors.join('\n'), /pitcrew\.yaml:\d+:\d+ reactor\.rules\[0\]/);
    assert.equal(s().commit, a);

    const flaky = `${FIXTURES}/modules/flaky.mjs`;
    const c = commit(
      config(
        home,
        origin,
        `  flaky: { driver: module, settings: { module: ${flaky} }, restart: { delay: 5s } }\nreactor: { rules: [{ name: r1, on: x, do: [{ emit: { tag: y } }] }] }\n`,
      ),
      'unhealthy',
    );
    await waitFor(
      () => s().last?.commit === c && s().last?.status === 'reverted',
      'the unhealthy commit reverted',
      () => JSON.stringify(s()),
    );
    assert.equal(s().commit, a);
    assert.ok(!agent.services.has('flaky'));
    assert.deepEqual(s().bad.sort(), [b, c].sort());
    await rollout.pull(); // nothing new: the bad commits are not tried again
    assert.equal(s().last!.commit, c);

    const d = commit(
      config(home, origin, 'reactor: { rules: [{ name: r2, on: x, do: [{ emit: { tag: z } }] }] }\n'),
      'good again',
    );
    await waitFor(
      () => s().commit === d,
      'the newer good commit',
      () => JSON.stringify(s()),
    );
    assert.deepEqual(
      agent.reactor.list().map((r) => r.name),
      ['r2'],
    );
  });

  it("keeps the commit it applied over a reload of the unit's config file, and runs it again after a start, before any fetch", async () => {
    const { dir, origin, commit } = repo();
    const home = tmpDir('pitcrew-unit-');
    const a = commit(
      config(home, origin, 'reactor: { rules: [{ name: r1, on: x, do: [{ emit: { tag: y } }] }] }\n'),
      'good',
    );
    const first = await rolloutAgent(home, origin, '');
    const names = (h: typeof first) => h.agent.reactor.list().map((r) => r.name);
    await waitFor(() => (first.rollout.status() as GitRolloutStatus).commit === a, 'the commit');
    await first.agent.reload('SIGHUP');
    assert.deepEqual(first.tags('system/config/rejected'), []);
    assert.deepEqual(names(first), ['r1']);
    await first.agent.stop();

    // Started again with the repository out of reach (a unit offline): the checkout's commit runs.
    execFileSync('mv', [origin, path.join(dir, 'gone.git')]);
    const again = await rolloutAgent(home, origin, '');
    const s = () => again.rollout.status() as GitRolloutStatus;
    await waitFor(
      () => s().last_error !== undefined,
      'the fetch to fail',
      () => JSON.stringify(s()),
    );
    assert.equal(s().commit, a);
    assert.deepEqual(names(again), ['r1']);
  });

  it('a start runs the commit checked out before it, from its first event, through the installed command', async () => {
    const { dir, origin, commit } = repo();
    const home = tmpDir('pitcrew-unit-');
    const hourly = (body: string) => config(home, origin, body).replace('interval: 100ms', 'interval: 1h');
    commit(
      hourly('reactor: { rules: [{ name: from_git, on: ping, do: [{ emit: { tag: pong } }] }] }\n'),
      'good',
    );
    const file = path.join(home, 'pitcrew.yaml');
    writeFileSync(file, hourly(''));
    const rules = async () =>
      (JSON.parse((await runBin(['rules', '-c', file])).stdout) as { name: string }[]).map((r) => r.name);
    let agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor((l) => l.includes('"tag":"system/config/applied"'));
    assert.deepEqual(await rules(), ['from_git']);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);

    // Offline at the next start: the checkout's commit runs from the start, before any fetch.
    execFileSync('mv', [origin, path.join(dir, 'gone.git')]);
    agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    await agent.waitFor((l) => l.includes('"tag":"system/agent/started"'));
    const starting = await agent.waitFor((l) => l.includes('"msg":"starting"'), 20_000, 'stderr');
    assert.match(starting, /"config":"[^"]*\/var\/rollout\/git\/pitcrew\.yaml"/);
    assert.deepEqual(await rules(), ['from_git']);
    // It runs already: the first poll, which cannot reach the repository, applies nothing again.
    await agent.waitFor((l) => l.includes('git rollout: git ls-remote'), 20_000, 'stderr');
    assert.equal(agent.lines.filter((l) => l.includes('"tag":"system/config/applied"')).length, 0);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
  });

  it("resolves the unit's places against the unit's config, and what the commit brings in the checkout", async () => {
    const { origin, commitFiles } = repo();
    // As a fleet writes it: the same relative places in the unit's config and in git.
    const a = commitFiles(
      {
        'pitcrew.yaml': `${config('', origin, '')}include: [more-rules.yaml]\n`,
        'more-rules.yaml': 'reactor: { rules: [{ name: from_git, on: x, do: [{ emit: { tag: y } }] }] }\n',
      },
      'relative places',
    );
    const { agent, rollout, dir } = await rolloutAgent('', origin, '');
    const s = () => rollout.status() as GitRolloutStatus;
    await waitFor(
      () => s().last?.commit === a,
      'the commit tried',
      () => JSON.stringify(s()),
    );
    assert.equal(s().last!.status, 'applied', JSON.stringify(s().last));
    assert.equal(agent.config.unit.data_dir, path.join(dir, 'var'));
    assert.equal(agent.config.control.socket, path.join(dir, 'ctl.sock'));
    assert.deepEqual(
      agent.reactor.list().map((r) => r.name),
      ['from_git'],
    );
  });

  it('fetches over git:// from git daemon on 127.0.0.1', async () => {
    const { dir, commit } = repo();
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const daemon: ChildProcess = spawn(
      'git',
      [
        'daemon',
        '--reuseaddr',
        '--export-all',
        `--base-path=${dir}`,
        '--listen=127.0.0.1',
        `--port=${port}`,
        dir,
      ],
      { stdio: 'ignore' },
    );
    after(() => daemon.kill());
    await appliesOver(`git://127.0.0.1:${port}/origin.git`, commit, 'over_the_wire', 'git://');
  });

  it('reads only what the checkout owns: a config that links out is refused unread, and no message content leaves the unit', async () => {
    const { origin, commit, commitFiles } = repo();
    const home = tmpDir('pitcrew-unit-');
    const secret = path.join(home, 'shadow');
    writeFileSync(secret, 'root:SECRET-HASH:19000:0:99999:7:::\n');
    const a = commit(config(home, origin, ''), 'good');
    const { agent, rollout, events } = await rolloutAgent(home, origin, '');
    const s = () => rollout.status() as GitRolloutStatus;
    await waitFor(() => s().commit === a, 'the first commit');
    const rejected = () => events.filter((e) => e.tag === 'system/config/rejected');

    const out = commitFiles({ 'pitcrew.yaml': { link: secret } }, 'link out');
    await waitFor(() => s().last?.commit === out, 'the linking commit tried');
    assert.equal(s().last!.status, 'rejected');
    assert.match(
      s().last!.errors.join(),
      /is outside .* \(a symlink out of the checkout\?\); it was not read/,
    );
    const zero = commitFiles({ 'pitcrew.yaml': { link: '/dev/zero' } }, 'device');
    await waitFor(() => s().last?.commit === zero, 'the device commit tried');
    assert.equal(s().last!.status, 'rejected');
    // A commit of its own whose content is wrong: the messages stay on the unit, positions leave it.
    const junk = commit(`${config(home, origin, '')}root:SECRET-IN-COMMIT: 1\n`, 'junk');
    await waitFor(() => s().last?.commit === junk, 'the junk commit tried');
    assert.match(s().last!.errors.join(), /SECRET-IN-COMMIT/, 'the local status says why');
    const shared = JSON.stringify(rejected().map((e) => e.data));
    assert.doesNotMatch(shared, /SECRET/);
    assert.match(shared, /pitcrew\.yaml:\d+:\d+: invalid/);
    assert.doesNotMatch(JSON.stringify(agent.status()), /SECRET/);
    assert.equal(s().commit, a);
    assert.deepEqual(s().bad.sort(), [out, zero, junk].sort());
    // The checkout's file changed on the unit, then a reload (SIGHUP): what runs is the commit's, so
    // its errors leave the unit as positions too.
    const checkout = path.join(home, 'var', 'rollout', 'git', 'pitcrew.yaml');
    writeFileSync(checkout, `${readFileSync(checkout, 'utf8')}root:SECRET-ON-UNIT: 1\n`);
    const before = rejected().length;
    await agent.reload('SIGHUP');
    assert.equal(rejected().length, before + 1);
    const onReload = JSON.stringify(rejected().at(-1)!.data);
    assert.doesNotMatch(onReload, /SECRET/);
    assert.match(onReload, /pitcrew\.yaml:\d+:\d+: invalid/);
  });

  it('a commit is marked bad before its config is loaded, and cleared once it applies', async () => {
    const { origin, commit, commitFiles } = repo();
    const home = tmpDir('pitcrew-unit-');
    const a = commit(config(home, origin, ''), 'good');
    const { rollout } = await rolloutAgent(home, origin, '');
    const s = () => rollout.status() as GitRolloutStatus;
    await waitFor(() => s().commit === a, 'the first commit');
    // A module that is imported while the config loads, and waits there for a file.
    const slow = commitFiles(
      {
        'slow.mjs': `import { existsSync } from 'node:fs';
while (!existsSync(new URL('./go', import.meta.url))) await new Promise((r) => setTimeout(r, 10));
export function createService() { return { handlers: {} }; }
`,
        'pitcrew.yaml': config(home, origin, '  slow: { driver: module, settings: { module: slow.mjs } }\n'),
      },
      'slow to load',
    );
    const badFile = path.join(home, 'var', 'rollout', 'bad-commits.json');
    await waitFor(
      () => existsSync(badFile) && readFileSync(badFile, 'utf8').includes(slow),
      'the commit on the bad list while it loads',
    );
    writeFileSync(path.join(home, 'var', 'rollout', 'git', 'go'), '');
    await waitFor(() => s().commit === slow, 'the slow commit applied');
    assert.ok(!readFileSync(badFile, 'utf8').includes(slow));
  });
});

describe('git rollout beside signed bundles', () => {
  it("a bundle runs over the commit's config: its rules stay over the next commit, and over a restart", async () => {
    const { origin, commitFiles } = repo();
    const services = (...names: string[]) =>
      `services:\n${names.map((n) => `  ${n}: { driver: sim-vehicle, settings: {} }\n`).join('')}`;
    const rules = (name: string) =>
      `reactor: { rules: [{ name: ${name}, on: ping, do: [{ emit: { tag: pong } }] }] }\n`;
    const fromFile = services('obd') + rules('from_file');
    const unit = await bundleUnit(
      'gb-1',
      fromFile,
      `git: { repo: "${origin}", branch: main, path: pitcrew.yaml, interval: 100ms }`,
    );
    // The fleet's config: the unit's own (its trust key where the unit keeps it), other services and rules.
    const commit = (body: string, message: string) =>
      commitFiles(
        {
          'pitcrew.yaml': readFileSync(unit.file, 'utf8')
            .replace(fromFile, body)
            .replace('[fleet.key.pub]', `[${unit.key}.pub]`),
        },
        message,
      );
    const applied = (c: string) =>
      unit.agent.waitFor((l) => l.includes(`git rollout: ${c.slice(0, 12)} applied`), 20_000, 'stderr');
    const running = async () => {
      const status = JSON.parse((await runBin(['status', '-c', unit.file])).stdout) as {
        services: Record<string, unknown>;
      };
      const names = (JSON.parse((await runBin(['rules', '-c', unit.file])).stdout) as { name: string }[]).map(
        (r) => r.name,
      );
      return { services: Object.keys(status.services).sort(), rules: names };
    };

    await applied(commit(services('obd', 'gps') + rules('from_git'), 'the fleet config'));
    assert.deepEqual(await running(), { services: ['gps', 'obd'], rules: ['from_git'] });

    // The bundle's rules replace the commit's; the commit's services stay.
    const bundle = path.join(unit.dir, 'b1.yaml');
    writeFileSync(
      bundle,
      'version: 1\nrules:\n  - { name: from_bundle, on: ping, do: [{ emit: { tag: pong } }] }\n',
    );
    assert.equal((await unit.push(await unit.sign(bundle))).status, 'applied');
    assert.deepEqual(await running(), { services: ['gps', 'obd'], rules: ['from_bundle'] });

    // The next commit brings a service: it runs, under the bundle's rules still.
    await applied(commit(services('obd', 'gps', 'car') + rules('from_git_2'), 'one more service'));
    assert.deepEqual(await running(), { services: ['car', 'gps', 'obd'], rules: ['from_bundle'] });

    // A restart runs the commit with the bundle over it, from the start, applying nothing again.
    await unit.restart();
    assert.deepEqual(await running(), { services: ['car', 'gps', 'obd'], rules: ['from_bundle'] });
    assert.equal(unit.agent.lines.filter((l) => l.includes('"tag":"system/config/applied"')).length, 0);
    await unit.stop();
  });
});
