import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import { moduleFiles } from '../config/diff.js';
import { ConfigError, formatIssue } from '../config/errors.js';
import type { LoadedConfig } from '../config/load.js';
import { ConfigMemo } from '../config/memo.js';
import type { ConfigT } from '../config/schema.js';
import type { Timer } from '../core/clock.js';
import type { AgentStatus, Instead, Outcome, Part, PartContext, ReloaderPort } from '../parts/context.js';
import { conditionFactory } from '../reactor/condition.js';
import { loadWithBundle } from './bundles.js';
import { errorText } from './errors.js';
import { LastKnownGood } from './last-known-good.js';

/**
 * Reloads the config file (and what it includes) on request (`SIGHUP`, `pitcrew rollout pull`) and,
 * with `rollout.watch`, when one of its files changes: parse and validate fully, then apply. A
 * config that does not load or apply changes nothing: it is rejected with its positioned errors
 * and the running config stays. An applied config becomes the last known good.
 */
export class Reloader implements Part, ReloaderPort {
  readonly name = 'rollout';
  readonly provides: Part['provides'];
  private watchers: FSWatcher[] = [];
  private files: string[] = [];
  private debounce?: Timer;
  private busy: Promise<unknown> = Promise.resolve();
  /** Where each config that proved good is kept, for a start whose config does not load. */
  readonly lastKnownGood: LastKnownGood;
  /** Told when a config is reverted after its health check, with where it came from (a git rollout marks its commit bad). */
  private readonly revertListeners: ((reason: string, source: string) => void)[] = [];
  private readonly healthyListeners: ((source: string) => void)[] = [];
  /** The health window of the last applied config: when it ends, and what to go back to. */
  private probation?: { timer: Timer; previous: ConfigT; source: string };

  private readonly file: string;
  /** The running config as written (for the last known good). */
  private raw: unknown;
  /** What the last load parsed and checked: a reload redoes only the files and rules that changed. */
  private readonly memo: ConfigMemo;
  /** What runs in place of the config file (the git commit's config), if anything: what its reloads apply. */
  private instead?: Instead;
  /** The directory of the bundle laid over every config applied, if there is one. */
  private bundle?: () => string | undefined;

  constructor(private readonly cx: PartContext<ConfigT['rollout']>) {
    this.file = cx.origin.file;
    this.files = cx.origin.files;
    this.raw = cx.origin.raw;
    this.memo = cx.origin.memo ?? new ConfigMemo();
    this.lastKnownGood = new LastKnownGood(cx.dataDir, (file, e) => cx.storage.report(file, e));
    // Without git, `pitcrew rollout` reloads the file.
    this.provides = {
      reloader: this,
      rollout: {
        status: () => ({ source: 'file', file: this.file, ...cx.status().config }),
        pull: async () => void (await this.reload('pull')),
      },
    };
  }

  async start(): Promise<void> {
    this.lastKnownGood.save(this.raw, this.cx.config.current);
    if (this.cx.config.current.rollout?.watch) this.watchFiles();
  }

  async stop(): Promise<void> {
    this.debounce?.cancel();
    this.probation?.timer.cancel();
    for (const w of this.watchers) w.close();
    this.watchers = [];
    await this.busy;
    await this.lastKnownGood.settled();
  }

  onReverted(fn: (reason: string, source: string) => void): void {
    this.revertListeners.push(fn);
  }

  onHealthy(fn: (source: string) => void): void {
    this.healthyListeners.push(fn);
  }

  runInstead(instead: Instead): void {
    this.instead = instead;
  }

  layOver(bundle: () => string | undefined): void {
    this.bundle = bundle;
  }

  /** The config file this reloader reads: what runs, unless git runs a commit's config instead. */
  get configFile(): string {
    return this.file;
  }

  /** Reloads the config file; resolves whether its config now runs. */
  async reload(source: string): Promise<boolean> {
    return (await this.applyFile(source, this.file)).ok;
  }

  /**
   * Loads, checks and applies a config file (the config's own, or a git checkout's, which with its
   * includes must stay `within` the checkout), with the bundle laid over it; one at a time.
   */
  applyFile(source: string, file: string, within?: string, bundle?: string): Promise<Outcome> {
    const run = this.busy.then(() => this.applyNow(source, file, within, bundle));
    // A failure the outcome does not cover (a full disk saving the last known good) must not
    // block every change after it.
    this.busy = run.catch((e) => this.cx.log.error(`applying ${source}: ${errorText(e)}`));
    return run;
  }

  private async applyNow(source: string, file: string, within?: string, bundle?: string): Promise<Outcome> {
    let loaded: LoadedConfig;
    let base: { file: string; within?: string } = { file, within };
    let laid = false;
    try {
      const instead = file === this.file ? await this.instead?.() : undefined;
      if (instead) base = instead;
      const dir = bundle ?? this.bundle?.();
      laid = instead !== undefined || dir !== undefined;
      loaded = await loadWithBundle(base.file, dir, {
        within: base.within,
        unitDir: path.dirname(this.file),
        memo: this.memo,
      });
    } catch (e) {
      const reasons = e instanceof ConfigError ? e.issues.map(formatIssue) : [errorText(e)];
      const shared = base.within && e instanceof ConfigError ? positions(e, base.within) : reasons;
      this.cx.config.rejected(source, reasons, shared);
      return { ok: false, reasons, shared };
    }
    const previous = this.probation?.previous ?? this.cx.config.current;
    try {
      await this.cx.config.apply(loaded.config);
    } catch (e) {
      this.cx.config.rejected(source, [errorText(e)]);
      return { ok: false, reasons: [errorText(e)], shared: [errorText(e)] };
    }
    this.checkHealth(previous, source, loaded.raw);
    if (
      file === this.file &&
      !laid &&
      this.cx.config.current.rollout?.watch &&
      loaded.files.join() !== this.files.join()
    ) {
      this.files = loaded.files;
      this.watchFiles();
    }
    return { ok: true, reasons: [], shared: [] };
  }

  /**
   * With `rollout.health`, a new config is on probation for `window`: when it ends, `when` (JsonLogic
   * over `{status, signals}`; by default: no service failed or restarting) must hold, or the
   * previous config is restored (`system/config/reverted {reason}`). Only a config that passed
   * becomes the last known good.
   */
  private checkHealth(previous: ConfigT, source: string, raw: unknown): void {
    this.probation?.timer.cancel();
    this.probation = undefined;
    const health = this.cx.config.current.rollout?.health;
    const passed = () => {
      this.raw = raw;
      this.lastKnownGood.save(raw, this.cx.config.current);
    };
    if (!health) {
      passed();
      return;
    }
    const healthy = health.when === undefined ? noServiceDown : conditionFactory(this.cx)(health.when);
    const timer = this.cx.clock.setTimeout(() => {
      this.probation = undefined;
      const status = this.cx.status();
      if (healthy({ status, signals: this.cx.signals.tree })) {
        passed();
        for (const fn of this.healthyListeners) fn(source);
        return;
      }
      const reason =
        health.when === undefined
          ? 'a service failed'
          : `the health condition did not hold after ${health.window} ms`;
      this.busy = this.busy.then(() => this.revert(previous, reason, source));
    }, health.window);
    this.probation = { timer, previous, source };
  }

  private async revert(previous: ConfigT, reason: string, source: string): Promise<void> {
    const failed = this.cx.config.current;
    try {
      await this.cx.config.apply(previous);
    } catch (e) {
      this.cx.log.error(`reverting the config failed: ${errorText(e)}`);
      return;
    }
    this.cx.config.reverted(reason, failed);
    for (const fn of this.revertListeners) fn(reason, source);
  }

  /**
   * Watches the directories of the config's files, not the files: an editor that saves by writing
   * a new file and renaming it over the old one replaces the inode a file watch would follow.
   */
  private watchFiles(): void {
    for (const w of this.watchers) w.close();
    const byDir = new Map<string, Set<string>>();
    // The config's files, and the module files its services run: module code is config too.
    const modules = Object.values(this.cx.config.current.services).flatMap(moduleFiles);
    for (const f of [...this.files, ...modules]) {
      const dir = path.dirname(f);
      if (!byDir.has(dir)) byDir.set(dir, new Set());
      byDir.get(dir)!.add(path.basename(f));
    }
    const wait = this.cx.config.current.rollout?.debounce ?? 500;
    this.watchers = [...byDir].map(([dir, names]) =>
      watch(dir, (_event, name) => {
        if (!name || !names.has(name.toString())) return;
        this.debounce?.cancel();
        this.debounce = this.cx.clock.setTimeout(() => void this.reload('watch'), wait);
      }),
    );
  }
}

/** A config error's positions, relative to the checkout, without the messages (which can quote the files). */
function positions(e: ConfigError, within: string): string[] {
  const at = e.issues.map((i) => `${path.relative(within, i.file)}:${i.line}:${i.column}`);
  return [...new Set(at)].map((p) => `${p}: invalid (the unit's log and pitcrew rollout status say why)`);
}

/** The default health check: every service running. */
const noServiceDown = (data: Record<string, unknown>) =>
  Object.values((data.status as AgentStatus).services).every((s) => s.state === 'running');
