import type { UpdateKindT } from '../../schemas/common.js';
import type { DesiredStatusT } from '../../schemas/wire.js';
import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { type DesiredPart, desiredPart, diffDesired } from './diff.js';
import type { Downloader } from './downloader.js';
import { errorCode, errors, errorText } from './errors.js';
import type { InstallQueue } from './install-queue.js';
import type { Installer } from './installers/installer.js';
import type { ErrorInfoT, ItemT, MachineRecordT, ScheduleT, StateT, UpdateT } from './model.js';
import { type KindPolicy, POLICY, TRANSITIONS } from './policy.js';
import type { UpdateGate } from './schedule.js';
import type { UpdateStore } from './store.js';

export interface MachineDeps {
  store: UpdateStore;
  clock: Clock;
  log: Logger;
  downloader: Downloader;
  installerFor: (item: ItemT) => Installer;
  gate: UpdateGate;
  queue: InstallQueue;
  /** The config's schedule and TTL, for desired statuses that bring none. */
  policy: { schedule: ScheduleT; ttl: number };
  /** A transition, already persisted. */
  onTransition: (m: UpdateMachine) => void;
  /** An item's status changed (persisted) or its download progressed (`progress`, not persisted). */
  onItem: (item: ItemT, progress?: boolean) => void;
  /** Before an item is removed: what runs from it stops (a service's instances). */
  beforeRemove?: (item: ItemT) => Promise<void>;
}

/** What became of a desired status offered to a machine. */
export type Offer = 'ignored' | 'rescheduled' | 'replaced' | 'pending' | 'started' | 'nothing to do';

const FINAL = new Set(['installed', 'removed', 'error']);

/** An item installed from a download (a unit config comes whole in the desired status). */
const fetched = (i: ItemT) => i.action === 'install' && i.urls.length > 0;

export const errorInfo = (e: unknown): ErrorInfoT => {
  const exitCode = (e as { exitCode?: unknown } | null)?.exitCode;
  return {
    message: errorText(e),
    code: errorCode(e),
    ...(typeof exitCode === 'number' ? { exitCode } : {}),
  };
};

/**
 * One update machine (DESIGN §7.2): `noUpdate → downloading → readyToUpdate → updating →
 * noUpdate`. Every transition and item status is saved before it is announced, so after a restart
 * `resume()` carries on: downloads continue from their partial files, a ready update waits for its
 * schedule again, an interrupted install step runs again.
 */
export class UpdateMachine {
  record: MachineRecordT;
  /** The update that ended last, for status (not persisted: its items' statuses are in the unit status). */
  last?: UpdateT;
  private downloads?: AbortController;
  private disarm?: () => void;
  private ttlTimer?: Timer;
  /** How this kind differs from the other (DESIGN §7). */
  private readonly kindPolicy: KindPolicy;
  /** Set by stop(): an install still running then is not recorded (its store is closed); it runs again at the next start. */
  private stopped = false;

  constructor(
    readonly kind: UpdateKindT,
    private readonly deps: MachineDeps,
  ) {
    this.record = deps.store.machine(kind);
    this.kindPolicy = POLICY[kind];
  }

  get state(): StateT {
    return this.record.state;
  }

  /** Picks up where the persisted record left off (at start, and after a restart). */
  resume(): void {
    const u = this.record.update;
    if (this.state === 'noUpdate' || !u) this.takePending();
    else if (this.state === 'updating') this.deps.queue.run(() => this.installItems(u));
    else this.carryOn(u);
  }

  private carryOn(u: UpdateT): void {
    this.armTtl(u);
    if (this.state === 'downloading') void this.download(u);
    else this.schedule(u);
  }

  /**
   * A new desired status (already verified), as Aos takes it: the same one again is ignored while
   * its update is in progress, and retries what failed once it is over (the diff is against what
   * is installed); a schedule-only change reschedules in place; any other one replaces an update
   * that has not begun to install (its downloads aborted, its items `error`), and waits while one
   * installs.
   */
  offer(desired: DesiredStatusT): Offer {
    const part = desiredPart(this.kindPolicy, desired);
    const u = this.record.update;
    if (part.fullKey === this.record.lastKey && u) return 'ignored';
    this.record.lastKey = part.fullKey;
    const replaceable = this.state === 'readyToUpdate' || this.state === 'downloading';
    if (u && replaceable && u.key === part.key) {
      Object.assign(u, this.scheduling(part));
      this.save();
      this.armTtl(u);
      if (this.state === 'readyToUpdate') this.schedule(u);
      this.deps.onTransition(this);
      return 'rescheduled';
    }
    if (this.state === 'noUpdate') return this.begin(desired, part) ? 'started' : 'nothing to do';
    this.record.pending = desired;
    this.save();
    if (!replaceable) return 'pending';
    // What the new one downloads too keeps its partial file, to resume from.
    const wanted = diffDesired(this.kindPolicy, desired, this.deps.store.installed());
    this.cancel('replaced by a newer desired status', new Set(wanted.map((i) => i.sha256)));
    return 'replaced';
  }

  /** Starts a ready update now, whatever its schedule (gRPC Start*Update, the `update` action); `when` still applies. */
  trigger(): void {
    const u = this.record.update;
    if (this.state !== 'readyToUpdate' || !u)
      throw errors.UPDATE_STATE(this.kind, 'start', this.state, 'readyToUpdate');
    u.triggered = true;
    this.save();
    this.schedule(u);
  }

  /** Gives the update up; only before it installs anything. `keep`: digests whose downloads stay. */
  cancel(reason: string, keep: ReadonlySet<string | undefined> = new Set()): void {
    const u = this.record.update;
    if ((this.state !== 'downloading' && this.state !== 'readyToUpdate') || !u)
      throw errors.UPDATE_STATE(this.kind, 'cancel', this.state, 'downloading or readyToUpdate');
    this.downloads?.abort(errors.UPDATE_STATE(this.kind, 'download', 'cancelled', 'not cancelled'));
    this.downloads = undefined;
    const message = `cancelled: ${reason}`;
    for (const i of u.items)
      if (!FINAL.has(i.status)) this.setItem(i, { status: 'error', errorInfo: { message } });
    this.deps.log.warn(`${this.kind} update ${message}`);
    this.finish(u, { message }, keep);
  }

  /** Stops timers and downloads; the persisted record stays for the next start. */
  stop(): void {
    this.stopped = true;
    this.disarm?.();
    this.ttlTimer?.cancel();
    this.downloads?.abort(new Error('stopping'));
    this.downloads = undefined;
  }

  private scheduling(part: DesiredPart): Pick<UpdateT, 'schedule' | 'ttl' | 'triggered'> {
    const s = part.schedule;
    return {
      schedule: s
        ? { type: s.type, ...(s.type === 'timetable' ? { timetable: s.timetable } : {}) }
        : this.deps.policy.schedule,
      ttl: s?.ttl !== undefined ? s.ttl * 1000 : this.deps.policy.ttl,
      triggered: false,
    };
  }

  private begin(desired: DesiredStatusT, part: DesiredPart): boolean {
    const items = diffDesired(this.kindPolicy, desired, this.deps.store.installed());
    if (!items.length) return false;
    const u: UpdateT = {
      key: part.key,
      items,
      createdAt: this.deps.clock.now(),
      ...this.scheduling(part),
    };
    this.armTtl(u);
    if (!items.some(fetched)) this.ready(u, { update: u, error: null });
    else {
      this.go('downloading', { update: u, error: null });
      void this.download(u);
    }
    return true;
  }

  private takePending(): void {
    const p = this.record.pending;
    if (!p) return;
    this.record.pending = null;
    this.save();
    this.begin(p, desiredPart(this.kindPolicy, p));
  }

  private async download(u: UpdateT): Promise<void> {
    const ac = new AbortController();
    this.downloads = ac;
    let failed: ItemT | undefined;
    const fetches = u.items.filter((i) => fetched(i) && i.status !== 'error');
    await Promise.all(
      fetches.map(async (i) => {
        this.setItem(i, { status: 'downloading', errorInfo: undefined });
        try {
          await this.deps.downloader.fetch(
            { id: i.id, urls: i.urls, sha256: i.sha256!, size: i.size! },
            ac.signal,
            (bytes) => this.progress(i, bytes),
          );
          this.setItem(i, { status: 'downloaded', bytes: i.size });
        } catch (e) {
          if (ac.signal.aborted && failed !== i) return;
          failed ??= i;
          this.setItem(i, { status: 'error', errorInfo: errorInfo(e) });
          // All or nothing (FOTA): one item that cannot be had stops the others.
          if (this.kindPolicy.allOrNothing) ac.abort(e);
        }
      }),
    );
    if (this.downloads !== ac) return;
    this.downloads = undefined;
    if (failed && this.kindPolicy.allOrNothing) {
      const message = `not downloaded: ${failed.id} failed`;
      for (const i of u.items)
        if (!FINAL.has(i.status)) this.setItem(i, { status: 'error', errorInfo: { message } });
      return this.finish(u, failed.errorInfo ?? { message });
    }
    if (!u.items.some((i) => i.status !== 'error'))
      return this.finish(u, failed?.errorInfo ?? { message: 'nothing could be downloaded' });
    this.ready(u);
  }

  /** Downloaded (or needing no download): each item `pending` until its install, as Aos reports it. */
  private ready(u: UpdateT, patch: Partial<MachineRecordT> = {}): void {
    this.go('readyToUpdate', patch);
    for (const i of u.items)
      if (i.status === 'downloaded' || i.status === 'pending') this.setItem(i, { status: 'pending' });
    this.schedule(u);
  }

  private progress(i: ItemT, bytes: number): void {
    i.bytes = bytes;
    this.deps.onItem(i, true);
  }

  private schedule(u: UpdateT): void {
    this.disarm?.();
    this.disarm = this.deps.gate.arm(u.schedule, u.triggered, () =>
      this.deps.queue.run(() => this.install(u)),
    );
  }

  private armTtl(u: UpdateT): void {
    this.ttlTimer?.cancel();
    this.ttlTimer = this.deps.clock.setTimeout(
      () => {
        if (this.record.update === u && (this.state === 'downloading' || this.state === 'readyToUpdate'))
          this.cancel(`not installed within its ttl of ${Math.round(u.ttl / 1000)} s`);
      },
      // Never more than the whole ttl from now: a clock set back since it was taken on does not stretch it.
      Math.min(u.ttl, Math.max(0, u.createdAt + u.ttl - this.deps.clock.now())),
    );
  }

  /** The update's turn in the install queue: still ready (not cancelled or replaced meanwhile)? Then install. */
  private async install(u: UpdateT): Promise<void> {
    if (this.record.update !== u || this.state !== 'readyToUpdate') return;
    this.disarm?.();
    this.ttlTimer?.cancel();
    this.go('updating');
    await this.installItems(u);
  }

  /** Installs, then removes, each item not done yet; FOTA stops at the first failure. */
  private async installItems(u: UpdateT): Promise<void> {
    let failed: ItemT | undefined = this.kindPolicy.allOrNothing
      ? u.items.find((i) => i.status === 'error')
      : undefined;
    const order = [
      ...u.items.filter((i) => i.action === 'install'),
      ...u.items.filter((i) => i.action === 'remove'),
    ];
    for (const i of order) {
      if (FINAL.has(i.status)) continue;
      if (failed && this.kindPolicy.allOrNothing) {
        this.setItem(i, {
          status: 'error',
          errorInfo: { message: `not installed: ${failed.id} failed first` },
        });
        continue;
      }
      const installing = i.action === 'install';
      this.setItem(i, { status: installing ? 'installing' : 'removing' });
      let outcome: Pick<ItemT, 'status' | 'errorInfo'>;
      try {
        const installer = this.deps.installerFor(i);
        if (installing)
          await installer.install(
            i,
            i.sha256 ? this.deps.downloader.fileOf({ sha256: i.sha256 }) : undefined,
          );
        else {
          await this.deps.beforeRemove?.(i);
          await installer.remove(i);
        }
        outcome = { status: installing ? 'installed' : 'removed' };
      } catch (e) {
        failed = i;
        outcome = { status: 'error', errorInfo: errorInfo(e) };
      }
      if (this.stopped) return;
      if (outcome.errorInfo) this.deps.log.error({ kind: this.kind, id: i.id }, outcome.errorInfo.message);
      const { section, id, type, version, digest } = i;
      const kept = { section, id, version, ...(type ? { type } : {}), ...(digest ? { digest } : {}) };
      if (outcome.status === 'removed') this.deps.store.removeInstalled(kept);
      else if (installing) this.deps.store.setInstalled({ ...kept, ...outcome });
      this.setItem(i, outcome);
    }
    const bad = u.items.filter((i) => i.status === 'error');
    this.finish(
      u,
      bad.length
        ? {
            ...bad[0]!.errorInfo!,
            message: `${bad.length} of ${u.items.length} failed: ${bad[0]!.errorInfo?.message}`,
          }
        : null,
    );
  }

  /** Back to noUpdate: downloads deleted (but those in `keep`), then the pending desired status, if any, begins. */
  private finish(
    u: UpdateT,
    error: ErrorInfoT | null,
    keep: ReadonlySet<string | undefined> = new Set(),
  ): void {
    this.disarm?.();
    this.ttlTimer?.cancel();
    this.last = u;
    this.go('noUpdate', { update: null, error });
    for (const i of u.items)
      if (i.sha256 && !keep.has(i.sha256)) this.deps.downloader.discard({ sha256: i.sha256 });
    this.takePending();
  }

  private go(state: StateT, patch: Partial<MachineRecordT> = {}): void {
    if (this.stopped) return;
    if (!TRANSITIONS[this.state].includes(state))
      throw errors.UPDATE_STATE(
        this.kind,
        `go to ${state}`,
        this.state,
        Object.entries(TRANSITIONS)
          .filter(([, to]) => to.includes(state))
          .map(([from]) => from)
          .join(' or '),
      );
    Object.assign(this.record, patch, { state });
    this.save();
    this.deps.log.info(
      { kind: this.kind, state, error: this.record.error?.message },
      `${this.kind} update: ${state}`,
    );
    this.deps.onTransition(this);
  }

  private setItem(i: ItemT, patch: Partial<ItemT>): void {
    if (this.stopped) return;
    Object.assign(i, patch);
    if (patch.errorInfo === undefined && 'errorInfo' in patch) delete i.errorInfo;
    this.save();
    this.deps.onItem(i);
  }

  private save(): void {
    this.deps.store.save(this.kind, this.record);
  }
}
