import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Timer } from '../core/clock.js';
import type { Part, PartContext, ReloaderPort } from '../parts/context.js';
import { errors, errorText } from './errors.js';

const run = promisify(execFile);

export interface GitSettings {
  repo: string;
  branch: string;
  path: string;
  interval: number;
}

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

/**
 * The commit checked out when the agent last ran (the checkout is left detached at the one that
 * runs), with its config file: what a start runs over the unit's config file. Not a bad commit.
 */
export function keptCommit(
  dataDir: string,
  git: Pick<GitSettings, 'path'>,
): { commit: string; file: string; within: string } | undefined {
  const within = checkoutOf(dataDir);
  try {
    const commit = readFileSync(path.join(within, '.git', 'HEAD'), 'utf8').trim();
    const badFile = badCommitsOf(dataDir);
    const bad = existsSync(badFile) ? (JSON.parse(readFileSync(badFile, 'utf8')) as string[]) : [];
    const file = path.join(within, git.path);
    if (!/^[0-9a-f]{40,64}$/.test(commit) || bad.includes(commit) || !existsSync(file)) return undefined;
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

  private readonly git: GitSettings;

  constructor(private readonly cx: PartContext<GitSettings>) {
    this.git = cx.section;
    this.dir = checkoutOf(cx.dataDir);
    this.badFile = badCommitsOf(cx.dataDir);
    mkdirSync(path.dirname(this.dir), { recursive: true, mode: 0o700 });
    this.bad = new Set(
      existsSync(this.badFile) ? (JSON.parse(readFileSync(this.badFile, 'utf8')) as string[]) : [],
    );
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

  private async cmd(args: string[], cwd = this.dir): Promise<string> {
    try {
      return (
        await run('git', args, { cwd, timeout: 120_000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })
      ).stdout.trim();
    } catch (e) {
      const err = e as { stderr?: string };
      throw errors.DRIVER_ERROR(`git ${args[0]}: ${(err.stderr ?? errorText(e)).trim().split('\n').at(-1)}`);
    }
  }

  async start(): Promise<void> {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
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

  private async pullNow(): Promise<void> {
    if (!existsSync(path.join(this.dir, '.git'))) {
      await this.cmd(['clone', '--quiet', '--no-checkout', this.git.repo, this.dir], path.dirname(this.dir));
    } else if (this.commit === undefined) await this.applyKept();
    await this.cmd(['fetch', '--quiet', 'origin', this.git.branch]);
    const head = await this.cmd(['rev-parse', 'FETCH_HEAD']);
    this.lastError = undefined;
    if (head === this.commit || this.bad.has(head)) return;
    await this.cmd(['checkout', '--quiet', '--force', '--detach', head]);
    // Bad until it proves good: a commit whose load kills or hangs the agent is not tried again after a restart.
    this.markBad(head);
    const outcome = await this.reloader.applyFile(`git ${head.slice(0, 12)}`, this.configIn(), this.dir);
    if (outcome.ok) {
      this.bad.delete(head);
      this.saveBad();
      this.previous = this.commit;
      this.commit = head;
      this.report(head, 'applied', []);
    } else {
      if (this.commit) await this.cmd(['checkout', '--quiet', '--force', '--detach', this.commit]);
      this.report(head, 'rejected', outcome.reasons, outcome.shared);
    }
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
    if (this.commit)
      await this.cmd(['checkout', '--quiet', '--force', '--detach', this.commit]).catch(() => {});
    this.report(failed, 'reverted', [reason]);
  }

  private markBad(commit: string): void {
    this.bad.add(commit);
    this.saveBad();
  }

  private saveBad(): void {
    writeFileSync(this.badFile, JSON.stringify([...this.bad]), { mode: 0o600 });
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
