import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RolloutT } from '../../schemas/rollout.js';
import type { Timer } from '../core/clock.js';
import { roomUnder } from '../core/disk-room.js';
import { flushFileSystem, readJsonFile, writeDurably } from '../core/durable-file.js';
import type { Part, PartContext, ReloaderPort } from '../parts/context.js';
import { errors, errorText } from './errors.js';
import { git, treeSize, withinDisk } from './git-command.js';

export type GitSettings = NonNullable<RolloutT['git']>;

/** What `pitcrew rollout status` and the ack say about the git source. */
export interface GitRolloutStatus {
  source: 'git';
  repo: string;
  branch: string;
  /** The commit whose config runs. */
  commit?: string;
  /** The last commit tried, and what became of it. */
  last?: { commit: string; status: 'applied' | 'rejected' | 'reverted'; errors: string[]; at: number };
  /** Commits that failed: never tried again. */
  bad: string[];
  last_error?: string;
}

/** Where the checkout is, and the commits that failed, under the data directory. */
const checkoutOf = (dataDir: string) => path.join(dataDir, 'rollout', 'git');
const badCommitsOf = (dataDir: string) => path.join(dataDir, 'rollout', 'bad-commits.json');
const readBad = (dataDir: string) => (readJsonFile(badCommitsOf(dataDir)) as string[] | undefined) ?? [];
/** Written before a checkout and removed after it: one cut short (a power cut) left a tree of two commits. */
const tornOf = (checkout: string) => path.join(checkout, '.git', 'pitcrew-checkout');
const packsOf = (checkout: string) => path.join(checkout, '.git', 'objects', 'pack');

/**
 * What a git stopped part-way leaves (the agent killed, a power cut, a fetch over its bound):
 * lock files, which would refuse every later command, partial packs, and objects partly
 * downloaded over plain HTTP. The largest partial file's size, or 0.
 */
function clearStale(checkout: string): number {
  let largest = 0;
  const clear = (dir: string, stale: (name: string) => boolean) => {
    const names = existsSync(dir) ? readdirSync(dir) : [];
    for (const name of names.filter(stale)) {
      const file = path.join(dir, name);
      largest = Math.max(largest, statSync(file).size);
      rmSync(file, { force: true });
    }
  };
  clear(path.join(checkout, '.git'), (n) => n.endsWith('.lock'));
  clear(packsOf(checkout), (n) => n.startsWith('tmp_'));
  // Objects a plain-HTTP fetch was downloading (`<object>.temp`, in their fan-out directories).
  const objects = path.join(checkout, '.git', 'objects');
  for (const fan of existsSync(objects) ? readdirSync(objects) : [])
    if (/^[0-9a-f]{2}$/.test(fan)) clear(path.join(objects, fan), (n) => n.endsWith('.temp'));
  return largest;
}

/**
 * The commit checked out when the agent last ran (the checkout is left detached at the one that
 * runs), with its config file: what a start runs over the unit's config file. Not a bad commit,
 * nor one whose checkout was cut short.
 */
export function keptCommit(
  dataDir: string,
  git: Pick<GitSettings, 'path'>,
): { commit: string; file: string; within: string } | undefined {
  const within = checkoutOf(dataDir);
  try {
    const commit = readFileSync(path.join(within, '.git', 'HEAD'), 'utf8').trim();
    // Bad commits that cannot be read: any commit may be one, and none is run before a fetch.
    const bad = readBad(dataDir);
    const file = path.join(within, git.path);
    if (
      !/^[0-9a-f]{40,64}$/.test(commit) ||
      bad.includes(commit) ||
      !existsSync(file) ||
      existsSync(tornOf(within))
    )
      return undefined;
    return { commit, file, within };
  } catch {
    return undefined;
  }
}

/**
 * Config rollout from git (DESIGN §8) with the `git` command: every `interval` (and on `pitcrew
 * rollout pull`) fetch the branch; a new commit is checked out in `data_dir/rollout/git` and its
 * config file applied through the reloader (load, validate, apply, health check). A commit that
 * does not load, apply or stay healthy is marked bad (kept in `data_dir`, never retried until a
 * newer commit comes) and the previous commit is checked out again. Each outcome goes to status
 * and, with a cloud link, to `<prefix>/ack`.
 */
export class GitRollout implements Part {
  readonly name = 'rollout.git';
  readonly provides: Part['provides'];
  private readonly dir: string;
  private readonly badFile: string;
  private readonly bad: Set<string>;
  private timer?: Timer;
  private commit?: string;
  private previous?: string;
  private last?: GitRolloutStatus['last'];
  private lastError?: string;
  private polling?: Promise<void>;
  private stopped = false;
  /** Ends the git under way when the agent stops: what it leaves is cleared at the next start. */
  private readonly stopping = new AbortController();

  private readonly git: GitSettings;

  constructor(private readonly cx: PartContext<GitSettings>) {
    this.git = cx.section;
    this.dir = checkoutOf(cx.dataDir);
    this.badFile = badCommitsOf(cx.dataDir);
    mkdirSync(path.dirname(this.dir), { recursive: true, mode: 0o700 });
    // The agent holds the data directory: no other git works in this checkout.
    clearStale(this.dir);
    let bad: string[] = [];
    try {
      bad = readBad(cx.dataDir);
    } catch (e) {
      cx.log.warn(`git rollout: ${errorText(e)}`);
    }
    this.bad = new Set(bad);
    // `pitcrew run` started with the commit checked out before (keptCommit): it runs already.
    const kept = keptCommit(cx.dataDir, this.git);
    if (kept && cx.origin.loaded === kept.file) this.commit = kept.commit;
    this.reloader.onReverted((reason, source) => {
      if (source.startsWith('git ')) void this.reverted(reason);
    });
    // The config file changed (or SIGHUP): the commit's config still runs, not the file's.
    this.reloader.runInstead(async () =>
      this.commit ? { file: this.configIn(), within: this.dir } : undefined,
    );
    this.provides = { rollout: { status: () => this.status(), pull: () => this.pull() } };
  }

  /** Declared in the registry (`needs: ['reloader']`), so it is there. */
  private get reloader(): ReloaderPort {
    return this.cx.ports.reloader!;
  }

  private cmd(args: string[], cwd = this.dir): Promise<string> {
    return git(args, { cwd, signal: this.stopping.signal });
  }

  async start(): Promise<void> {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.stopping.abort();
    await this.polling;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.cx.clock.setTimeout(() => {
      void this.pull().finally(() => this.schedule(this.git.interval));
    }, ms);
  }

  /** Fetches now and applies a new commit if there is one. */
  pull(): Promise<void> {
    // Any git failure (clone, fetch, checkout) is reported the same way, and the next poll tries again.
    this.polling ??= this.pullNow()
      .catch((e) => {
        if (this.stopped) return; // its git ended by the stop
        this.lastError = errorText(e);
        this.cx.log.warn(`git rollout: ${this.lastError}`);
      })
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  private configIn(): string {
    return path.join(this.dir, this.git.path);
  }

  /**
   * Asks the remote for the branch's head and fetches only a commit not tried before, and only
   * that commit (no history); a commit larger than `max_size` or `max_files` allow, or than the
   * disk has room for, is refused before any of it is checked out (marked bad, as any refusal).
   */
  private async pullNow(): Promise<void> {
    if (!existsSync(path.join(this.dir, '.git')))
      await this.cmd(['init', '--quiet', this.dir], path.dirname(this.dir));
    else if (this.commit === undefined) await this.applyKept();
    const head = await this.remoteHead();
    this.lastError = undefined;
    if (head === this.commit || this.bad.has(head)) return;
    const passed = await this.fetch();
    // The branch may have moved since it was asked: what was fetched is what is tried.
    const commit = passed ? head : await this.cmd(['rev-parse', 'FETCH_HEAD']);
    if (commit === this.commit || this.bad.has(commit)) return;
    const refused = passed ?? (await this.refusal(commit));
    if (refused) {
      this.markBad(commit);
      this.report(commit, 'rejected', [errors.GIT_TOO_LARGE(commit.slice(0, 12), refused).message]);
      return;
    }
    await this.checkout(commit);
    // Bad until it proves good: a commit whose load kills or hangs the agent is not tried again after a restart.
    this.markBad(commit);
    const outcome = await this.reloader.applyFile(`git ${commit.slice(0, 12)}`, this.configIn(), this.dir);
    if (outcome.ok) {
      this.bad.delete(commit);
      this.saveBad();
      this.previous = this.commit;
      this.commit = commit;
      this.report(commit, 'applied', []);
      // Fetches keep each commit's objects in a pack of its own: gathered, and those of old commits
      // dropped, once there are many (git's own thresholds).
      const gc = { cwd: this.dir, config: ['gc.autoDetach=false'], signal: this.stopping.signal };
      await git(['gc', '--auto', '--quiet'], gc).catch((e) =>
        this.cx.log.warn(`git rollout: ${errorText(e)}`),
      );
    } else {
      if (this.commit) await this.checkout(this.commit);
      this.report(commit, 'rejected', outcome.reasons, outcome.shared);
    }
  }

  /** The commit the branch's head is on the remote. */
  private async remoteHead(): Promise<string> {
    const { repo, branch } = this.git;
    const ref = `refs/heads/${branch}`;
    const lines = (await this.cmd(['ls-remote', '--', repo, ref])).split('\n');
    // A pattern matches the ends of ref names: the branch is the line of exactly its name.
    const head = lines.find((l) => l.endsWith(`\t${ref}`))?.split('\t')[0];
    if (!head) throw errors.DRIVER_ERROR(`git ls-remote: ${repo} has no branch ${branch}`);
    return head;
  }

  /**
   * Fetches the branch's tip alone, no file of it larger than the commit may be: undefined, or,
   * when that bound stopped it, why the commit is refused. Git's own housekeeping waits for `gc`.
   * A commit of `max_size` over a slow mobile link takes minutes: the fetch may take 30, and over
   * HTTP ends once it has stalled (under 1 kB/s) for one. A server that cannot send a commit
   * without its history (git over plain HTTP, "dumb") sends it with its history.
   */
  private async fetch(): Promise<string | undefined> {
    const bound = this.git.max_size + this.git.max_files * 100 + 65_536;
    const fetch = (depth: string[], signal = this.stopping.signal) =>
      git(['fetch', '--quiet', ...depth, '--no-tags', '--', this.git.repo, this.git.branch], {
        cwd: this.dir,
        config: [
          'fetch.unpackLimit=1',
          'gc.auto=0',
          'maintenance.auto=false',
          'http.lowSpeedLimit=1000',
          'http.lowSpeedTime=60',
        ],
        maxFileBytes: bound,
        timeout: 30 * 60_000,
        signal,
      });
    try {
      const shallow = await fetch(['--depth', '1']).then(
        () => true,
        (e) => {
          if (!/does not support shallow/.test(errorText(e))) throw e;
          return false;
        },
      );
      if (shallow) return undefined;
      // The whole history, object by object: bounded in all by the disk it takes, each file by `bound`.
      const { over } = await withinDisk(this.dir, bound, (signal) => fetch([], signal), this.stopping.signal);
      if (!over) return undefined;
      clearStale(this.dir);
      await this.cmd(['prune', '--expire=now']);
      return `took more than ${bound} bytes of the disk while being fetched (with its history: plain HTTP)`;
    } catch (e) {
      if (clearStale(this.dir) >= bound) return `took more than ${bound} bytes while being fetched`;
      throw e;
    }
  }

  /** Why checking `commit` out is refused, if it is: its files, counted from its tree. */
  private async refusal(commit: string): Promise<string | undefined> {
    const { max_files: maxFiles, max_size: maxBytes } = this.git;
    const size = await treeSize(this.dir, commit, { maxFiles, maxBytes, signal: this.stopping.signal });
    if (size.over === 'files') return `has more than ${maxFiles} files (rollout.git.max_files)`;
    if (size.over === 'bytes') return `has more than ${maxBytes} bytes of files (rollout.git.max_size)`;
    const free = await roomUnder(this.dir);
    if (size.bytes > free)
      return `has ${size.bytes} bytes of files, and ${this.dir} has ${free} bytes free (less a 5 % reserve)`;
    return undefined;
  }

  /**
   * Checks `commit` out, marked from before it begins until its files are on the disk: keptCommit
   * does not run a tree a power cut left torn.
   */
  private async checkout(commit: string): Promise<void> {
    const torn = tornOf(this.dir);
    writeDurably(torn, commit);
    await this.cmd(['checkout', '--quiet', '--force', '--detach', commit]);
    await flushFileSystem(this.dir);
    rmSync(torn);
  }

  /**
   * After a start that did not run it already (the agent built otherwise than by `pitcrew run`, or
   * the commit's config did not load with the unit's then): the commit checked out before runs
   * again, without waiting for the fetch, as a unit starts offline as often as not.
   */
  private async applyKept(): Promise<void> {
    const kept = keptCommit(this.cx.dataDir, this.git);
    if (!kept) return;
    const outcome = await this.reloader.applyFile(`git ${kept.commit.slice(0, 12)}`, kept.file, kept.within);
    if (!outcome.ok) return;
    this.commit = kept.commit;
    this.cx.log.info(
      { commit: kept.commit },
      `git rollout: ${kept.commit.slice(0, 12)} runs, as before the start`,
    );
  }

  /** The health check failed after `commit` was applied: it is bad, the previous commit is back. */
  private async reverted(reason: string): Promise<void> {
    const failed = this.commit;
    if (!failed) return;
    this.markBad(failed);
    this.commit = this.previous;
    if (this.commit) await this.checkout(this.commit).catch(() => {});
    this.report(failed, 'reverted', [reason]);
  }

  private markBad(commit: string): void {
    this.bad.add(commit);
    this.saveBad();
  }

  private saveBad(): void {
    writeDurably(this.badFile, JSON.stringify([...this.bad]));
  }

  /** `shared`: the errors as the ack carries them off the unit (see Reloader's Outcome). */
  private report(
    commit: string,
    status: 'applied' | 'rejected' | 'reverted',
    errs: string[],
    shared = errs,
  ): void {
    this.last = { commit, status, errors: errs, at: this.cx.clock.now() };
    this.cx.log.info({ commit, status, errors: errs }, `git rollout: ${commit.slice(0, 12)} ${status}`);
    if (this.cx.cloud.configured)
      this.cx.cloud
        .publish('ack', JSON.stringify({ source: 'git', commit, status, errors: shared }), 1, true)
        .catch((e) => this.cx.log.warn(`git rollout ack: ${errorText(e)}`));
  }

  status(): GitRolloutStatus {
    return {
      source: 'git',
      repo: this.git.repo,
      branch: this.git.branch,
      commit: this.commit,
      last: this.last,
      bad: [...this.bad],
      ...(this.lastError ? { last_error: this.lastError } : {}),
    };
  }
}
