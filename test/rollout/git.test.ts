/**
 * Config rollout from a real git repository made by the test (a local path, and `git daemon` on
 * 127.0.0.1): a good commit applied, a schema-invalid one rejected, a valid but unhealthy one
 * reverted after its health window, each bad commit never tried again, a newer good one applied.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfigSync } from '../../agent/config/load.js';
import { realClock } from '../../agent/core/clock.js';
import { GitRollout, type GitRolloutStatus } from '../../agent/rollout/git-rollout.js';
import { Reloader } from '../../agent/rollout/reloader.js';
import { agentWith, FIXTURES } from '../helpers/agent.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=fleet', '-c', 'user.email=fleet@example.org', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();

/** A bare origin and a working clone that commits configs to it. */
function repo() {
  const dir = tmpDir('pitcrew-git-');
  const origin = path.join(dir, 'origin.git');
  git(dir, 'init', '--quiet', '--bare', '-b', 'main', origin);
  const work = path.join(dir, 'work');
  git(dir, 'clone', '--quiet', origin, work);
  git(work, 'checkout', '--quiet', '-b', 'main');
  const commit = (yaml: string, message: string) => {
    writeFileSync(path.join(work, 'pitcrew.yaml'), yaml);
    git(work, 'add', 'pitcrew.yaml');
    git(work, 'commit', '--quiet', '-m', message);
    git(work, 'push', '--quiet', 'origin', 'main');
    return git(work, 'rev-parse', 'HEAD');
  };
  return { dir, origin, commit };
}

/**
 * A unit's config as committed. Its data directory and socket are absolute: relative paths resolve
 * against the file, so in the checkout they would name other places (a change only a restart takes).
 */
const config = (home: string, repoUrl: string, body: string) => `version: 1
unit: { data_dir: ${home}/var }
control: { socket: ${home}/ctl.sock }
rollout:
  git: { repo: "${repoUrl}", branch: main, path: pitcrew.yaml, interval: 100ms }
  health: { window: 400ms }
services:
  obd: { driver: sim-vehicle, settings: {} }
${body}`;

async function rolloutAgent(home: string, repoUrl: string, body: string) {
  const h = agentWith(config(home, repoUrl, body), realClock);
  const file = path.join(h.dir, 'pitcrew.yaml');
  const reloader = new Reloader(h.agent, file, [file], loadConfigSync(file, {}).raw);
  const rollout = new GitRollout(h.agent, reloader, h.agent.config.rollout!.git!);
  h.agent.use(reloader, 'rollout').use(rollout, 'rollout.git');
  after(() => h.agent.stop());
  await h.agent.start();
  return { ...h, rollout };
}

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

  it('fetches over git:// from git daemon on 127.0.0.1', async () => {
    const { dir, commit } = repo();
    const home = tmpDir('pitcrew-unit-');
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
    const url = `git://127.0.0.1:${port}/origin.git`;
    const a = commit(
      config(home, url, 'reactor: { rules: [{ name: over_the_wire, on: x, do: [{ emit: { tag: y } }] }] }\n'),
      'good',
    );
    const { agent, rollout } = await rolloutAgent(home, url, '');
    await waitFor(
      () => (rollout.status() as GitRolloutStatus).commit === a,
      'the commit over git://',
      () => JSON.stringify(rollout.status()),
    );
    assert.deepEqual(
      agent.reactor.list().map((r) => r.name),
      ['over_the_wire'],
    );
  });
});
