import path from 'node:path';
import type { RestartT } from '../../../schemas/services.js';
import type { InstanceRequestT } from '../../../schemas/wire.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { errors } from '../errors.js';
import { target } from '../installers/links.js';
import type { ErrorInfoT } from '../model.js';
import type { UpdateStore } from '../store.js';
import { entryPoint } from './entry.js';
import { type InstanceIdent, InstanceProcess, instanceKey } from './instance.js';

export interface InstanceSetDeps {
  clock: Clock;
  log: Logger;
  store: UpdateStore;
  /** `updates.sota`'s directory root: services live in `root/services/<id>/<version>`. */
  root: string;
  settings: { restart: RestartT; stop_timeout: number };
  /** An instance's state changed. */
  report: (p: InstanceProcess) => void;
  /** An instance stopped for good (no longer wanted, or its service gone). */
  gone: (p: InstanceProcess) => void;
  /**
   * Every instance of a newly installed version failed before it was up: put the previous version
   * back, then reconcile.
   */
  revert: (serviceId: string, failed: string, why: ErrorInfoT) => void;
}

/**
 * The service instances a desired status asks for (DESIGN §14), kept running: each wanted
 * instance runs the version its service's `current` link names, as long as that version is
 * installed. A changed set is re-run (instances no longer wanted stopped, new ones started, those
 * of a changed version restarted); a service about to be removed stops its instances first. A new
 * version is on probation until one of its instances is up: if all of them fail first, it is
 * reverted. Reconciling is serialised; the wanted set is persisted and runs again after a restart.
 */
export class InstanceSet {
  private wanted: InstanceRequestT[] = [];
  private readonly running = new Map<string, InstanceProcess>();
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: InstanceSetDeps) {}

  start(): void {
    this.wanted = this.deps.store.meta<InstanceRequestT[]>('instances') ?? [];
    void this.reconcile();
  }

  /** A desired status's `instances` (null: none): replaces the set. */
  want(list: InstanceRequestT[] | null): void {
    this.wanted = list ?? [];
    this.deps.store.setMeta('instances', this.wanted);
    void this.reconcile();
  }

  /** Brings what runs in line with what is wanted and installed; resolves when it is. */
  reconcile(): Promise<void> {
    this.chain = this.chain.then(() => this.align()).catch((e) => this.deps.log.error(e, 'instances'));
    return this.chain;
  }

  /** Stops a service's instances (before it is removed or replaced). */
  stopService(serviceId: string): Promise<void> {
    this.chain = this.chain.then(() =>
      this.halt([...this.running.values()].filter((p) => p.ident.serviceId === serviceId)),
    );
    return this.chain;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
    await Promise.all([...this.running.values()].map((p) => p.stop()));
  }

  list(): InstanceProcess[] {
    return [...this.running.values()];
  }

  private async align(): Promise<void> {
    if (this.stopped) return;
    const targets = new Map<string, InstanceIdent>();
    for (const w of this.wanted) {
      const version = await this.currentVersion(w.serviceId);
      if (version === undefined) continue;
      for (let instance = 0; instance < w.numInstances; instance++) {
        const ident = { serviceId: w.serviceId, subjectId: w.subjectId, instance, version };
        targets.set(instanceKey(ident), ident);
      }
    }
    await this.halt(
      [...this.running.values()].filter((p) => targets.get(p.key)?.version !== p.ident.version),
    );
    for (const [key, ident] of targets) {
      if (this.running.has(key)) continue;
      const p = new InstanceProcess(ident, {
        clock: this.deps.clock,
        log: this.deps.log,
        restart: this.deps.settings.restart,
        stopTimeout: this.deps.settings.stop_timeout,
        entry: () => entryPoint(this.dir(ident.serviceId, ident.version)),
        onState: (changed) => this.changed(changed),
      });
      this.running.set(key, p);
      p.start();
    }
  }

  private async halt(ps: InstanceProcess[]): Promise<void> {
    await Promise.all(
      ps.map(async (p) => {
        await p.stop();
        this.running.delete(p.key);
        this.deps.gone(p);
      }),
    );
  }

  private dir(serviceId: string, version: string): string {
    return path.join(this.deps.root, 'services', serviceId, version);
  }

  /** The version `current` names, when the store has it installed. */
  private async currentVersion(serviceId: string): Promise<string | undefined> {
    const version = await target(path.join(this.deps.root, 'services', serviceId), 'current');
    const installed = this.deps.store
      .installed('services')
      .some((i) => i.id === serviceId && i.version === version && i.status === 'installed');
    return installed ? version : undefined;
  }

  private changed(p: InstanceProcess): void {
    this.deps.report(p);
    const { serviceId, version } = p.ident;
    if (p.state === 'active') this.deps.store.setMeta(`proven:${serviceId}`, version);
    if (p.state !== 'failed' || this.stopped) return;
    const mine = [...this.running.values()].filter(
      (q) => q.ident.serviceId === serviceId && q.ident.version === version,
    );
    const proven = this.deps.store.meta<string>(`proven:${serviceId}`) === version;
    if (proven || !mine.every((q) => q.earlyExits > 0 && !q.wasActive)) return;
    const exitCode = p.error?.exitCode;
    this.chain = this.chain
      .then(async () => {
        if (!mine.every((q) => this.running.get(q.key) === q)) return;
        const base = path.join(this.deps.root, 'services', serviceId);
        const previous = await target(base, 'previous');
        // Nothing to go back to: it keeps restarting with the backoff.
        if (!previous || previous === version) return;
        await this.halt(mine);
        const why = errors.INSTANCE_REVERTED(serviceId, version, previous);
        this.deps.log.error({ service: serviceId }, why.message);
        // Not awaited: the revert waits its turn among the installs, which may be waiting on this chain.
        this.deps.revert(serviceId, version, {
          message: why.message,
          code: why.code,
          ...(exitCode !== undefined ? { exitCode } : {}),
        });
      })
      .catch((e) => this.deps.log.error(e, 'instances'));
  }
}
