import { createHash } from 'node:crypto';
import type { UpdateKindT } from '../../schemas/common.js';
import type { UpdatesT } from '../../schemas/updates.js';
import type { DesiredStatusT } from '../../schemas/wire.js';
import { wireError } from '../cloud/wire-error.js';
import { ZonedTime } from '../core/cron.js';
import { RefusalLimiter } from '../core/refusals.js';
import type { InstanceStatus, Part, PartContext, UpdateControl } from '../parts/context.js';
import { conditionFactory } from '../reactor/condition.js';
import { readTrustedKeys } from '../rollout/signing.js';
import { DesiredFile, ignoredFields, openDesired } from './desired.js';
import { Downloader } from './downloader.js';
import { errors, errorText } from './errors.js';
import { type Notification, UpdateGrpcServer } from './grpc-server.js';
import { InstallQueue } from './install-queue.js';
import { revertInstalled } from './installers/directory.js';
import { installerSelector } from './installers/select.js';
import type { InstanceProcess } from './instances/instance.js';
import { InstanceSet } from './instances/instance-set.js';
import { type Offer, UpdateMachine } from './machine.js';
import { type ErrorInfoT, type InstalledT, type ItemT, itemKey, type ScheduleT } from './model.js';
import { POLICY } from './policy.js';
import { UpdateGate } from './schedule.js';
import { UpdateStore } from './store.js';

const GRPC_STATE = {
  noUpdate: 'NO_UPDATE',
  downloading: 'DOWNLOADING',
  readyToUpdate: 'READY_TO_UPDATE',
  updating: 'UPDATING',
};

/** The last desired status received, and what became of it. */
export interface DesiredOutcome {
  source: string;
  at: number;
  status: 'accepted' | 'rejected';
  reasons: string[];
  /** The accepted desired status's sequence: which one this acknowledges (a fleet rollout waits for it). */
  sequence?: number;
  /** Refusals from the same source before this one that were not reported (rate limit). */
  held?: number;
  fota?: Offer;
  sota?: Offer;
  /** Fields it carries that this unit does not act on (`decryptionInfo`, `instances` …). */
  ignored?: string[];
}

const grpcError = (e: ErrorInfoT | null) =>
  e ? { error: { aos_code: 1, exit_code: e.exitCode ?? 0, message: e.message } } : {};

/**
 * SOTA/FOTA updates (DESIGN §7): takes signed desired statuses from `<prefix>/desired` and
 * `updates.desired_file`, runs one machine per configured kind, reports items into the unit
 * status, serves the gRPC API, and answers `pitcrew update` and the `update` action.
 */
export class UpdateManager implements Part, UpdateControl {
  readonly name = 'updates';
  readonly provides: Part['provides'] = { updates: this };
  private readonly machines = new Map<UpdateKindT, UpdateMachine>();
  private readonly subscribers = new Set<(n: Notification) => void>();
  private trusted: string[] = [];
  private readonly reported = new Map<string, number>();
  private store?: UpdateStore;
  private file?: DesiredFile;
  private grpc?: UpdateGrpcServer;
  private desired?: DesiredOutcome;
  private readonly refusals: RefusalLimiter;

  private readonly settings: UpdatesT;
  /** The parts of a desired status beyond items this unit is set up to act on. */
  private readonly acting = new Set<string>();
  private instances?: InstanceSet;

  constructor(private readonly cx: PartContext<UpdatesT>) {
    this.settings = cx.section;
    if (cx.section.unit_config) this.acting.add('unitConfig');
    // Instances run from the software's directory: with a command installer there is none.
    if (cx.section.sota?.installer.type === 'directory') this.acting.add('instances');
    this.refusals = new RefusalLimiter(cx.clock);
  }

  async start(): Promise<void> {
    const { cx, settings: u } = this;
    this.trusted = u.trust ? readTrustedKeys(u.trust.keys, 'updates.trust.keys') : [];
    const store = new UpdateStore(cx.dataDir, cx);
    this.store = store;
    const downloader = new Downloader({ ...u.download, clock: cx.clock, log: cx.log });
    const installerFor = installerSelector(u, cx.clock, cx.dataDir, cx.log);
    const queue = new InstallQueue((e) => cx.log.error(`update install step failed: ${errorText(e)}`));
    const zone = new ZonedTime(cx.unit.timezone);
    const condition = conditionFactory(cx);
    for (const kind of ['fota', 'sota'] as const) {
      const policy = u[kind];
      if (!policy) continue;
      const gate = new UpdateGate({
        clock: cx.clock,
        zone,
        signals: cx.signals,
        ...(policy.when !== undefined ? { when: condition(policy.when) } : {}),
      });
      const schedule = policy.schedule as ScheduleT;
      this.machines.set(
        kind,
        new UpdateMachine(kind, {
          store,
          clock: cx.clock,
          log: cx.log,
          downloader,
          installerFor,
          gate,
          queue,
          policy: { schedule, ttl: u.ttl },
          onTransition: (m) => this.announce(m),
          onItem: (i, progress) => this.reportItem(i, progress),
          beforeRemove: async (i) => {
            if (i.section === 'services') await this.instances?.stopService(i.id);
          },
        }),
      );
    }
    for (const i of store.installed()) this.reportItem(i);
    const sota = u.sota?.installer;
    if (sota?.type === 'directory') this.instances = this.instanceSet(sota.root, store, queue);
    for (const m of this.machines.values()) m.resume();
    this.instances?.start();
    cx.cloud.onMessage('desired', (m) => this.receive(m, 'cloud'));
    if (u.desired_file) {
      this.file = new DesiredFile(
        u.desired_file,
        (content) => this.receive(content, 'file'),
        (e) => cx.log.warn(`${u.desired_file}: ${errorText(e)}`),
      );
      this.file.start();
    }
    if (u.grpc) {
      this.grpc = new UpdateGrpcServer(
        u.grpc,
        {
          notifications: () => this.notifications(),
          subscribe: (fn) => {
            this.subscribers.add(fn);
            return () => this.subscribers.delete(fn);
          },
          start: (kind) => this.startUpdate(kind),
        },
        cx.log,
      );
      await this.grpc.start();
    }
  }

  async stop(): Promise<void> {
    this.file?.stop();
    for (const m of this.machines.values()) m.stop();
    await this.instances?.stop();
    await this.grpc?.stop();
    this.store?.close();
  }

  /** Checks a desired status and offers it to each machine; acknowledges it on `<prefix>/ack`. */
  receive(message: Buffer, source: string): DesiredOutcome {
    const at = this.cx.clock.now();
    let outcome: DesiredOutcome;
    try {
      const taken = this.fresh(openDesired(message, this.trusted, this.settings.protocol));
      const ignored = ignoredFields(taken, this.acting);
      // A unit config this unit has no installer for is not part of the update: said, not failed.
      const desired = ignored.includes('unitConfig') ? { ...taken, unitConfig: undefined } : taken;
      outcome = {
        source,
        at,
        status: 'accepted',
        reasons: [],
        ...(taken.sequence === undefined ? {} : { sequence: taken.sequence }),
        ...(ignored.length ? { ignored } : {}),
      };
      for (const kind of ['fota', 'sota'] as const) {
        const m = this.machines.get(kind);
        if (m) outcome[kind] = m.offer(desired);
        else {
          const n = POLICY[kind].wanted(desired).length;
          if (n) outcome.reasons.push(`${n} ${kind} item(s) ignored: updates.${kind} is not configured`);
        }
      }
      if (this.instances && desired.instances !== undefined) this.instances.want(desired.instances);
      this.cx.log.info({ source, fota: outcome.fota, sota: outcome.sota }, 'desired status accepted');
      this.cx.bus.emit('system/update/desired', { ...outcome }, 'updates');
    } catch (e) {
      outcome = { source, at, status: 'rejected', reasons: [errorText(e)] };
      this.desired = outcome;
      // A flood of junk costs a few reports a minute; the next one says how many were held back.
      const { report, held } = this.refusals.admit(source);
      if (!report) return outcome;
      if (held) outcome.held = held;
      this.cx.log.error({ source, held }, errorText(e));
      this.cx.bus.emit('system/update/rejected', { source, reasons: outcome.reasons, held }, 'updates');
    }
    this.desired = outcome;
    if (this.cx.cloud.configured)
      this.cx.cloud
        // Retained, as a bundle's: a fleet tool that was away reads the last outcome.
        .publish('ack', JSON.stringify({ messageType: 'desiredStatusAck', ...outcome }), 1, true)
        .catch((e) => this.cx.log.warn(`desired status ack: ${errorText(e)}`));
    return outcome;
  }

  /**
   * A verified desired status that is meant for this unit and newer than the last one taken (the
   * last one itself again, as a desired file re-read at start, passes and changes nothing). Its
   * sequence is saved before anything acts on it, so a replay is refused even after a restart. An
   * Aos cloud's has none: its mutual-TLS link is what guards it, as in Aos.
   */
  private fresh(desired: DesiredStatusT): DesiredStatusT {
    const store = this.store!;
    const id = this.cx.unit.id;
    const meant = desired.unit === undefined ? [id] : [desired.unit].flat();
    if (!meant.includes(id))
      throw errors.DESIRED_STATUS(`it is meant for ${meant.join(', ')}, not for this unit (${id})`);
    if (desired.sequence === undefined) return desired;
    const last = store.lastDesired;
    const digest = createHash('sha256').update(JSON.stringify(desired)).digest('hex');
    const again = desired.sequence === last.sequence && digest === last.digest;
    if (desired.sequence <= last.sequence && !again)
      throw errors.DESIRED_STATUS(
        `sequence ${desired.sequence} is not newer than the last one taken (${last.sequence}): a replay or an older message, refused`,
      );
    store.lastDesired = { sequence: desired.sequence, digest };
    return desired;
  }

  /** The service instances (DESIGN §14), run from the SOTA directory and reported into the unit status. */
  private instanceSet(root: string, store: UpdateStore, queue: InstallQueue): InstanceSet {
    const { cx } = this;
    const report = (p: InstanceProcess) =>
      cx.cloud.reportItem('instances', p.key, {
        ...p.ident,
        status: p.state,
        nodeId: cx.unit.id,
        errorInfo: p.error ? wireError(p.error) : null,
      });
    const set: InstanceSet = new InstanceSet({
      clock: cx.clock,
      log: cx.log,
      store,
      root,
      settings: this.settings.instances,
      report,
      gone: (p) => cx.cloud.dropItem('instances', p.key),
      revert: (id, failed, why) =>
        queue.run(async () => {
          const previous = await revertInstalled(root, { section: 'services', id });
          const reverted = { section: 'services' as const, id, version: failed, status: 'error' as const };
          store.setInstalled({ ...reverted, errorInfo: why });
          this.reportItem({ ...reverted, errorInfo: why });
          if (previous) {
            const back = {
              section: 'services' as const,
              id,
              version: previous,
              status: 'installed' as const,
            };
            store.setInstalled(back);
            this.reportItem(back);
          }
          cx.bus.emit(
            'system/update/sota/reverted',
            { service: id, failed, to: previous ?? null },
            'updates',
          );
          void set.reconcile();
        }),
    });
    return set;
  }

  private machine(kind: UpdateKindT): UpdateMachine {
    const m = this.machines.get(kind);
    if (!m) throw errors.UPDATE_OFF(kind);
    return m;
  }

  startUpdate(kind: UpdateKindT): void {
    this.machine(kind).trigger();
  }

  cancel(kind: UpdateKindT): void {
    this.machine(kind).cancel('by request');
  }

  status(): Record<string, unknown> {
    const machines = Object.fromEntries(
      [...this.machines].map(([kind, m]) => {
        const { state, update, pending, error } = m.record;
        return [
          kind,
          { state, update, pending: pending !== null, error, ...(m.last ? { last: m.last } : {}) },
        ];
      }),
    );
    return {
      ...machines,
      desired: this.desired ?? null,
      installed: this.store?.installed() ?? [],
      instances: this.instanceStatus(),
      grpc: this.grpc?.bound ?? [],
    };
  }

  downloadsInUse(): string[] {
    return [...this.machines.values()].flatMap((m) =>
      [
        ...(m.record.update?.items ?? []),
        ...(m.record.pending ? POLICY[m.kind].wanted(m.record.pending) : []),
      ]
        .map((i) => i.sha256)
        .filter((d): d is string => d !== undefined),
    );
  }

  installing(): boolean {
    return [...this.machines.values()].some((m) => m.state === 'updating');
  }

  instanceStatus(): InstanceStatus[] {
    return (this.instances?.list() ?? []).map((p) => ({
      ...p.ident,
      status: p.state,
      ...(p.error ? { error: p.error } : {}),
    }));
  }

  private announce(m: UpdateMachine): void {
    const { state, update, error } = m.record;
    const items = (update?.items ?? []).map(({ section, action, id, version, status }) => ({
      section,
      action,
      id,
      version,
      status,
    }));
    this.cx.bus.emit(
      `system/update/${m.kind}/${state}` as const,
      { items, ...(error ? { error } : {}) },
      'updates',
    );
    const n = this.notification(m.kind);
    for (const fn of this.subscribers) fn(n);
    // Services installed or removed: the instances follow.
    if (m.kind === 'sota' && state === 'noUpdate') void this.instances?.reconcile();
  }

  /** An item's status in the unit status; download progress at most once per percent. */
  private reportItem(i: InstalledT & Partial<ItemT>, progress?: boolean): void {
    const key = itemKey(i);
    if (progress) {
      const pct = i.size ? Math.floor(((i.bytes ?? 0) * 100) / i.size) : 0;
      if (this.reported.get(key) === pct) return;
      this.reported.set(key, pct);
    }
    const { section, id, type, version, digest, status, errorInfo, bytes, size } = i;
    this.cx.cloud.reportItem(section, key, {
      // The unit config is known by its version alone.
      ...(section === 'unitConfig' ? {} : { id }),
      version,
      status,
      ...(type ? { type } : {}),
      ...(digest ? { digest } : {}),
      // Undefined, not left out: the unit status merges fields, and progress must go once downloaded.
      progress: status === 'downloading' ? { bytes: bytes ?? 0, size } : undefined,
      errorInfo: errorInfo ? wireError(errorInfo) : null,
    });
  }

  private notifications(): Notification[] {
    return [this.notification('fota'), this.notification('sota')];
  }

  /** A SchedulerNotifications message for one machine (DESIGN §7.4). */
  private notification(kind: UpdateKindT): Notification {
    const r = this.machines.get(kind)?.record;
    const state = GRPC_STATE[r?.state ?? 'noUpdate'];
    const items = r?.update?.items ?? [];
    const of = (section: ItemT['section'], action: ItemT['action']) =>
      items.filter((i) => i.section === section && i.action === action);
    if (kind === 'fota')
      return {
        fota_status: {
          state,
          components: of('components', 'install').map((i) => ({
            component_id: i.id,
            component_type: i.type,
            version: i.version,
          })),
          ...grpcError(r?.error ?? null),
        },
      };
    const service = (i: ItemT) => ({ service_id: i.id, version: i.version });
    const layer = (i: ItemT) => ({ layer_id: i.id, digest: i.digest, version: i.version });
    return {
      sota_status: {
        state,
        ...(of('unitConfig', 'install')[0]
          ? { unit_config: { version: of('unitConfig', 'install')[0]!.version } }
          : {}),
        install_services: of('services', 'install').map(service),
        remove_services: of('services', 'remove').map(service),
        install_layers: of('layers', 'install').map(layer),
        remove_layers: of('layers', 'remove').map(layer),
        rebalance_request: false,
        ...grpcError(r?.error ?? null),
      },
    };
  }
}
