import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { loadConfigSync } from '../../agent/config/load.js';
import { realClock } from '../../agent/core/clock.js';
import { GitRollout, type GitRolloutStatus } from '../../agent/rollout/git-rollout.js';
import { Reloader } from '../../agent/rollout/reloader.js';
import { agentWith } from './agent.js';
import { tmpDir } from './tmp.js';
import { waitFor } from './wait.js';

export const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=fleet', '-c', 'user.email=fleet@example.org', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();

/** A file's content as committed: text, bytes, or a symbolic link; null removes it. */
export type Committed = string | Buffer | { link: string } | null;

/** A bare origin and a working clone that commits configs to it. */
export function repo() {
  const dir = tmpDir('pitcrew-git-');
  const origin = path.join(dir, 'origin.git');
  git(dir, 'init', '--quiet', '--bare', '-b', 'main', origin);
  const work = path.join(dir, 'work');
  git(dir, 'clone', '--quiet', origin, work);
  git(work, 'checkout', '--quiet', '-b', 'main');
  const commitFiles = (files: Record<string, Committed>, message: string) => {
    for (const [name, body] of Object.entries(files)) {
      const file = path.join(work, name);
      execFileSync('rm', ['-f', file]);
      if (body === null) git(work, 'rm', '--quiet', '--cached', '--ignore-unmatch', name);
      else {
        if (typeof body === 'string' || Buffer.isBuffer(body)) writeFileSync(file, body);
        else symlinkSync(body.link, file);
        git(work, 'add', name);
      }
    }
    git(work, 'commit', '--quiet', '-m', message);
    git(work, 'push', '--quiet', 'origin', 'main');
    return git(work, 'rev-parse', 'HEAD');
  };
  const commit = (yaml: string, message: string) => commitFiles({ 'pitcrew.yaml': yaml }, message);
  return { dir, origin, work, commit, commitFiles };
}

/**
 * A unit's config as committed; `home` is where its places are (relative: to the unit's own
 * config); `git` adds settings to `rollout.git`.
 */
export const config = (home: string, repoUrl: string, body: string, git = '') => `version: 1
unit: { data_dir: ${home ? `${home}/` : ''}var }
control: { socket: ${home ? `${home}/` : ''}ctl.sock }
rollout:
  git: { repo: "${repoUrl}", branch: main, path: pitcrew.yaml, interval: 100ms${git} }
  health: { window: 400ms }
services:
  obd: { driver: sim-vehicle, settings: {} }
${body}`;

/** An agent in this process with the reloader and git rollout, on `config(home, repoUrl, body, git)`. */
export async function rolloutAgent(home: string, repoUrl: string, body: string, gitSettings = '') {
  const h = agentWith(config(home, repoUrl, body, gitSettings), realClock);
  const file = path.join(h.dir, 'pitcrew.yaml');
  h.agent.use(
    new Reloader(
      h.agent.context(h.agent.config.rollout, { file, files: [file], raw: loadConfigSync(file, {}).raw }),
    ),
    'rollout',
  );
  const rollout = new GitRollout(h.agent.context(h.agent.config.rollout!.git!));
  h.agent.use(rollout, 'rollout.git');
  after(() => h.agent.stop());
  await h.agent.start();
  return { ...h, rollout };
}

/**
 * A unit that fetches from `url` applies the commit `commit` makes of its config with one rule,
 * `name`: waited for, and the rule is what runs. `over`: how it is reached, for a failure.
 */
export async function appliesOver(
  url: string,
  commit: (yaml: string, message: string) => string,
  name: string,
  over: string,
) {
  const home = tmpDir('pitcrew-unit-');
  const a = commit(
    config(home, url, `reactor: { rules: [{ name: ${name}, on: x, do: [{ emit: { tag: y } }] }] }\n`),
    name,
  );
  const { agent, rollout } = await rolloutAgent(home, url, '');
  await waitFor(
    () => (rollout.status() as GitRolloutStatus).commit === a,
    `the commit over ${over}`,
    () => JSON.stringify(rollout.status()),
  );
  assert.deepEqual(
    agent.reactor.list().map((r) => r.name),
    [name],
  );
}
