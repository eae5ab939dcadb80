/**
 * What a commit can cost a unit, against a real repository: a commit larger than `max_size` or
 * `max_files` is refused before any of it is checked out (its tree counted, or its fetch stopped
 * by the bound), and fetched no more; a git stopped part-way (a power cut) leaves nothing that
 * stops the next, nor a torn checkout that a start would run; the repository the config names is
 * the one fetched, over plain HTTP too; a stop ends a git that hangs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { git as runGit } from '../../agent/rollout/git-command.js';
import { type GitRolloutStatus, keptCommit } from '../../agent/rollout/git-rollout.js';
import { startCli } from '../helpers/cli.js';
import { appliesOver, config, git, repo, rolloutAgent } from '../helpers/git-repo.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const BOUNDS = ', max_size: 256KB, max_files: 20';
const rule = (name: string) => `reactor: { rules: [{ name: ${name}, on: x, do: [{ emit: { tag: y } }] }] }\n`;

describe('git rollout within bounds', () => {
  it('refuses a commit too large or of too many files before checking it out, and fetches it no more', async () => {
    const { origin, commitFiles } = repo();
    const home = tmpDir('pitcrew-unit-');
    const yaml = (name: string) => config(home, origin, rule(name), BOUNDS);
    const a = commitFiles({ 'pitcrew.yaml': yaml('small') }, 'small');
    const { agent, rollout } = await rolloutAgent(home, origin, '', BOUNDS);
    const s = () => rollout.status() as GitRolloutStatus;
    const checkout = path.join(home, 'var', 'rollout', 'git');
    const tried = (c: string) =>
      waitFor(
        () => s().last?.commit === c,
        `commit ${c} tried`,
        () => JSON.stringify(s()),
      );
    await tried(a);
    assert.equal(s().last!.status, 'applied');

    // 1 MB that packs small: fetched, then refused by its tree's size.
    const zeros = commitFiles(
      { 'pitcrew.yaml': yaml('zeros'), 'drive.bin': Buffer.alloc(1024 ** 2) },
      'zeros',
    );
    await tried(zeros);
    assert.equal(s().last!.status, 'rejected');
    assert.match(
      s().last!.errors[0]!,
      /^commit [0-9a-f]{12} has more than 262144 bytes of files \(rollout\.git\.max_size\): it was not checked out/,
    );
    assert.ok(!existsSync(path.join(checkout, 'drive.bin')));

    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}.txt`, `${i}\n`]));
    const files = commitFiles({ ...many, 'drive.bin': null, 'pitcrew.yaml': yaml('many') }, 'many files');
    await tried(files);
    assert.equal(s().last!.status, 'rejected');
    assert.match(s().last!.errors[0]!, /has more than 20 files \(rollout\.git\.max_files\)/);
    assert.ok(!existsSync(path.join(checkout, 'f0.txt')));

    // 1 MB that does not pack small: the fetch is stopped at its bound, and what it wrote removed.
    const noise = commitFiles(
      {
        ...Object.fromEntries(Object.keys(many).map((f) => [f, null])),
        'pitcrew.yaml': yaml('noise'),
        'drive.bin': randomBytes(1024 ** 2),
      },
      'noise',
    );
    await tried(noise);
    assert.equal(s().last!.status, 'rejected');
    assert.match(
      s().last!.errors[0]!,
      /took more than \d+ bytes while being fetched: it was not checked out/,
    );
    const packs = path.join(checkout, '.git', 'objects', 'pack');
    assert.deepEqual(
      readdirSync(packs).filter((f) => f.startsWith('tmp_')),
      [],
    );
    const refused = s().last;
    await rollout.pull(); // the head is a bad commit: asked for, not fetched again
    assert.equal(s().last, refused);
    assert.deepEqual(s().bad.sort(), [zeros, files, noise].sort());
    assert.equal(s().commit, a);
    assert.deepEqual(
      agent.reactor.list().map((r) => r.name),
      ['small'],
    );

    const b = commitFiles({ 'drive.bin': null, 'pitcrew.yaml': yaml('after') }, 'small again');
    await tried(b);
    assert.equal(s().last!.status, 'applied');
    assert.deepEqual(
      agent.reactor.list().map((r) => r.name),
      ['after'],
    );
  });

  it('fetches from the repository the config names, when it names another than before', async () => {
    const first = repo();
    const home = tmpDir('pitcrew-unit-');
    const a = first.commit(config(home, first.origin, rule('first')), 'first');
    const one = await rolloutAgent(home, first.origin, '');
    await waitFor(() => (one.rollout.status() as GitRolloutStatus).commit === a, 'the first repository');
    await one.agent.stop();

    const moved = repo();
    const b = moved.commit(config(home, moved.origin, rule('moved')), 'moved');
    const two = await rolloutAgent(home, moved.origin, '');
    await waitFor(
      () => (two.rollout.status() as GitRolloutStatus).commit === b,
      'the repository the config names',
      () => JSON.stringify(two.rollout.status()),
    );
    assert.deepEqual(
      two.agent.reactor.list().map((r) => r.name),
      ['moved'],
    );
  });

  it('a checkout cut short is not run at a start, and what the stopped git left does not stop the next, through the installed command', async () => {
    const { origin, commit } = repo();
    const home = tmpDir('pitcrew-unit-');
    const hourly = (body: string) => config(home, origin, body).replace('interval: 100ms', 'interval: 1h');
    commit(hourly(rule('from_git')), 'good');
    const file = path.join(home, 'pitcrew.yaml');
    writeFileSync(file, hourly(''));
    let agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor((l) => l.includes('"tag":"system/config/applied"'));
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);

    // What a power cut during a checkout leaves: its marker, git's lock, a partial pack, and (as
    // writing it in place could) an empty list of bad commits.
    const checkout = path.join(home, 'var', 'rollout', 'git');
    const kept = keptCommit(path.join(home, 'var'), { path: 'pitcrew.yaml' });
    assert.ok(kept, 'the commit is kept while its checkout is whole');
    writeFileSync(path.join(checkout, '.git', 'pitcrew-checkout'), kept.commit);
    writeFileSync(path.join(checkout, '.git', 'index.lock'), '');
    writeFileSync(path.join(checkout, '.git', 'objects', 'pack', 'tmp_pack_cut'), 'partial');
    writeFileSync(path.join(home, 'var', 'rollout', 'bad-commits.json'), '');
    writeFileSync(
      path.join(checkout, 'pitcrew.yaml'),
      `${readFileSync(path.join(checkout, 'pitcrew.yaml'), 'utf8')}  half: {`,
    );
    assert.equal(keptCommit(path.join(home, 'var'), { path: 'pitcrew.yaml' }), undefined);

    // The unit's own config runs from the start, and the commit is checked out and applied again.
    agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    const starting = await agent.waitFor((l) => l.includes('"msg":"starting"'), 20_000, 'stderr');
    assert.match(starting, new RegExp(`"config":"${file.replaceAll('/', '\\/')}"`));
    await agent.waitFor((l) => l.includes('"tag":"system/config/applied"'));
    assert.match(agent.stderr(), /bad-commits\.json cannot be read \(0 bytes, not JSON/);
    await waitFor(() => !existsSync(path.join(checkout, '.git', 'pitcrew-checkout')), 'the checkout whole');
    assert.ok(!existsSync(path.join(checkout, '.git', 'index.lock')));
    assert.ok(!existsSync(path.join(checkout, '.git', 'objects', 'pack', 'tmp_pack_cut')));
    assert.doesNotMatch(readFileSync(path.join(checkout, 'pitcrew.yaml'), 'utf8'), /half/);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
  });

  it('a stop ends the git under way, where a repository that never answers held it', async () => {
    const held: net.Socket[] = [];
    let closed = 0;
    const server = net.createServer((socket) => {
      held.push(socket);
      socket.on('close', () => closed++).resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    after(() => {
      for (const s of held) s.destroy();
      server.close();
    });
    const url = `git://127.0.0.1:${(server.address() as net.AddressInfo).port}/fleet.git`;
    const { agent, rollout } = await rolloutAgent(tmpDir('pitcrew-unit-'), url, '');
    await waitFor(() => held.length > 0, 'git to connect');
    await agent.stop();
    // git is ended (its connection closes), not left to its two minutes' timeout.
    await waitFor(() => closed === held.length, 'the git to end');
    assert.equal((rollout.status() as GitRolloutStatus).last_error, undefined);
  });

  it('fetches from a plain HTTP server ("dumb" HTTP, which cannot send a commit without its history)', async () => {
    const { origin, commit } = repo();
    const url = await plainHttp(origin);
    // A plain HTTP server serves the files git keeps for it: written again after each push.
    const served = (yaml: string, message: string) => {
      const c = commit(yaml, message);
      git(origin, 'update-server-info');
      return c;
    };
    await appliesOver(url, served, 'over_plain_http', 'plain HTTP');
  });

  it('what git answers is taken up to 1 MB; past it git is ended and says so', async () => {
    const { work, commitFiles } = repo();
    commitFiles({ 'big.txt': 'x'.repeat(2 * 1024 * 1024) }, 'big');
    const blob = git(work, 'rev-parse', 'HEAD:big.txt');
    await assert.rejects(
      runGit(['cat-file', 'blob', blob], { cwd: work }),
      /git cat-file: wrote more than 1048576 characters/,
    );
    assert.equal(await runGit(['cat-file', '-s', blob], { cwd: work }), String(2 * 1024 * 1024));
  });

  it('over plain HTTP, a history larger in all than the bound is stopped and removed, each of its files under it', async () => {
    const { origin, commitFiles } = repo();
    const home = tmpDir('pitcrew-unit-');
    const url = await plainHttp(origin, 20);
    const yaml = (name: string) => config(home, url, rule(name), BOUNDS);
    const a = commitFiles({ 'pitcrew.yaml': yaml('first') }, 'first');
    git(origin, 'update-server-info');
    const { rollout } = await rolloutAgent(home, url, '', BOUNDS);
    const s = () => rollout.status() as GitRolloutStatus;
    await waitFor(
      () => s().last?.commit === a,
      'the first commit',
      () => JSON.stringify(s()),
    );
    // 8 drive logs of 200 KB committed one after another, then removed: the head is small, its history 1.6 MB.
    for (let i = 0; i < 8; i++) commitFiles({ [`drive${i}.bin`]: randomBytes(200 * 1024) }, `drive ${i}`);
    const gone = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`drive${i}.bin`, null]));
    const head = commitFiles({ ...gone, 'pitcrew.yaml': yaml('after') }, 'logs removed');
    git(origin, 'update-server-info');
    await waitFor(
      () => s().last?.commit === head,
      'the head tried',
      () => JSON.stringify(s()),
      60_000,
    );
    assert.equal(s().last!.status, 'rejected');
    assert.match(s().last!.errors[0]!, /took more than \d+ bytes of the disk while being fetched/);
    const objects = execFileSync('du', ['-sb', path.join(home, 'var', 'rollout', 'git', '.git', 'objects')], {
      encoding: 'utf8',
    });
    assert.ok(Number.parseInt(objects, 10) < 400 * 1024, `what it fetched is removed: ${objects}`);
  });
});

/** A plain HTTP server of `origin`'s files, each answered `delayMs` late (a slow link); its URL. */
async function plainHttp(origin: string, delayMs = 0): Promise<string> {
  const server = http.createServer((req, res) => {
    const file = path.join(
      origin,
      new URL(req.url ?? '/', 'http://unit').pathname.replace(/^\/origin\.git/, ''),
    );
    setTimeout(() => {
      if (!file.startsWith(`${origin}/`) || !existsSync(file) || statSync(file).isDirectory())
        res.writeHead(404).end();
      else createReadStream(file).pipe(res);
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => server.close());
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/origin.git`;
}
