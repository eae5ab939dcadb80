import { createHash } from 'node:crypto';
import type { UpdateKindT, WorkerActionT } from '../../schemas/common.js';
import type { ServiceT } from '../../schemas/services.js';
import { CloudLink } from '../cloud/cloud-link.js';
import { Outbox } from '../cloud/outbox.js';
import { type ConfigDiff, diffConfigs, moduleFiles } from '../config/diff.js';
import type { ConfigT } from '../config/schema.js';
import { Bus, type Event, type Listener } from '../core/bus.js';
import { type Clock, realClock, type Timer } from '../core/clock.js';
import { within } from '../core/deadline.js';
import { ErrorReports } from '../core/error-reports.js';
import { catchStrayErrors } from '../core/fault-scope.js';
import { moduleStamp } from '../core/load-module.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { OncePer } from '../core/once-per.js';
import type { ServiceDeps } from '../core/service.js';
import { ServiceRuntime } from '../core/service.js';
import { SignalStore } from '../core/signals.js';
import { watchStalls } from '../core/stall-watch.js';
import { StateStore } from '../core/state-store.js';
import { lockDataDir, StorageFaults } from '../core/storage.js';
import { Supervisor } from '../core/supervisor.js';
import type { Extension, HandlerOutput, ReturnerFn } from '../core/types.js';
import type { KeptState, WorkerStatus } from '../core/worker.js';
import { errors, errorText, PitcrewError } from '../errors.js';
import { buildStep, resolveStep } from '../hooks/resolve.js';
import type { AgentStatus, ConfigOrigin, OperatorPort, Part, PartContext, Ports } from '../parts/context.js';
import { conditionFactory } from '../reactor/condition.js';
import type { ReactorHost } from '../reactor/host.js';
import { Reactor } from '../reactor/reactor.js';
import { LIVE_SECTIONS } from './extensions.js';
import { type SharedHookContext, serviceParts } from './service-parts.js';

/** How long each part of the agent may take to stop before the stop goes on without it. */
const PART_STOP_MS = 1000;

/** How long a call (`pitcrew call`, the `call` action) waits for its handler by default: a message's default timeout. */
export const CALL_TIMEOUT_MS = 10_000;
export interface AgentOptions {
  clock?: Clock;
  /** Overrides `unit.data_dir`. */
  dataDir?: string;
  logger?: Logger;
  /** Directory relative paths resolve against when the config did not come from a file. */
  baseDir?: string;
  /** Jitter source for restart backoff. */
  random?: () => number;
}

/** An extension and the config key it serves, so a failed start can say which setting to fix. */
interface Mounted {
  ext: Extension;
  key?: string;
}

/**
 * The composition root: builds the stores, the bus, the supervised services, the reactor and the
 * extensions from the config, and is the one place where a capability is wired in.
 */
export class Agent implements ReactorHost {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signals = new SignalStore();
  readonly services = new Map<string, Supervisor>();
  readonly dataDir: string;
  readonly reactor: Reactor;
  /** What the parts provide one another (DESIGN §1: the composition root wires them). */
  private readonly ports: Ports = {};
  private readonly extensions: Mounted[] = [];
  private readonly returners = new Map<string, ReturnerFn>();
  private stateStore?: StateStore;
  private shared?: SharedHookContext;
  private outbox?: Outbox;
  private cloud?: CloudLink;
  private startedAt = 0;
  private running = false;
  private storage: StorageFaults;
  /** What start() took that stop() gives back: the data-dir lock, the stray-error and stall watches. */
  private releases: (() => void)[] = [];
  private readonly floodReports: OncePer;
  private readonly reports: ErrorReports;
  /** What operators did to workers (`service/worker` → state), kept across service restarts. */
  private readonly kept = new Map<string, KeptState>();
  private dropsUnreported = 0;
  private configState: Omit<AgentStatus['config'], 'version'> = { status: 'installed' };
  /** The running config's digest, worked out when it changes (status asks for it often). */
  private version: string;
  private dropTimer?: Timer;

  constructor(
    private current: ConfigT,
    private readonly opts: AgentOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger ?? silentLogger;
    this.dataDir = opts.dataDir ?? current.unit.data_dir;
    this.version = configVersion(current);
    this.bus = new Bus(this.clock, (err, event) =>
      this.log.error({ tag: event.tag }, `listener failed on ${event.tag}: ${errorText(err)}`),
    );
    this.reactor = new Reactor(this, current.reactor.rules, { maxDepth: current.reactor.max_depth });
    this.storage = new StorageFaults(this.bus, this.clock, this.log);
    this.floodReports = new OncePer(this.clock, 60_000);
    this.reports = new ErrorReports(this.clock, this.log);
  }

  /** The running config: the one given at construction, or the last one applied. */
  get config(): ConfigT {
    return this.current;
  }

  get unit(): { id: string; timezone?: string } {
    return this.config.unit;
  }

  get state(): StateStore {
    if (!this.stateStore) throw errors.AGENT_NOT_STARTED();
    return this.stateStore;
  }

  /**
   * Adds a part, started after the services in the order added; `key` names its config section.
   * What it provides is open to the parts added after it.
   */
  use(part: Part, key?: string): this {
    this.extensions.push({ ext: part, key });
    Object.assign(this.ports, part.provides);
    return this;
  }

  /** The context a part is built from: the kernel's services, its own section, and the ports. */
  context<S>(
    section: S,
    origin: Partial<ConfigOrigin> = {},
    env: NodeJS.ProcessEnv = process.env,
  ): PartContext<S> {
    const agent = this;
    return {
      section,
      bus: this.bus,
      clock: this.clock,
      log: this.log,
      dataDir: this.dataDir,
      unit: this.unit,
      signals: this.signals,
      env,
      origin: { file: origin.file ?? '', files: origin.files ?? [], raw: origin.raw },
      status: () => this.status(),
      cloud: {
        configured: this.config.cloud !== undefined,
        onMessage: (topic, fn) => this.onCloudMessage(topic, fn),
        publish: (topic, payload, qos, retain) => this.publish(topic, payload, qos, retain),
        reportItem: (sec, key, fields) => this.reportItem(sec, key, fields),
      },
      config: {
        get current() {
          return agent.config;
        },
        apply: (next) => this.apply(next),
        rejected: (source, reasons, shared) => this.rejected(source, reasons, shared),
        reverted: (reason, failed) => this.reverted(reason, failed),
      },
      operator: this.operator,
      ports: this.ports,
    };
  }

  /** What an operator does to the running agent (the control socket, metrics). */
  readonly operator: OperatorPort = {
    worker: (service, name, action) => this.worker(service, name, action),
    call: (service, handler, args, timeoutMs) => this.call(service, handler, args, timeoutMs),
    emit: (tag, data) => this.emit(tag, data),
    rules: () => this.reactor.list(),
    traces: (rule) => this.reactor.traces(rule),
  };

  /** Starts everything; a part that fails to start stops what already started, and the error names it. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.clock.now();
    const started: Extension[] = [];
    try {
      // The lock's database creates the data directory (0700) before anything else touches it.
      this.releases.push(lockDataDir(this.dataDir));
      this.releases.push(catchStrayErrors((e) => this.strayError(e)));
      this.releases.push(watchStalls((ms) => this.stalled(ms)));
      this.stateStore = new StateStore(this.dataDir);
      const box = this.config.cloud?.outbox;
      this.outbox = new Outbox(
        this.dataDir,
        { maxRecords: box?.max_records ?? 1_000_000, maxBytes: box?.max_bytes ?? 256 * 1024 ** 2 },
        {
          onWriteError: (file, e) => this.storage.report(file, e),
          onDropped: (n) => this.outboxDropped(n),
          onAccepted: () => this.cloud?.accepted(),
        },
      );
      if (this.config.cloud) this.cloud = this.cloudLink(this.config.cloud, this.outbox);
      this.shared = {
        bus: this.bus,
        clock: this.clock,
        signals: this.signals,
        state: this.stateStore,
        records: this.outbox,
        dataDir: this.dataDir,
        unit: { id: this.config.unit.id, timezone: this.config.unit.timezone },
        condition: conditionFactory(this),
      };
      // Rules listen before services start, so they see what services say while starting.
      await this.mount({ ext: this.reactor, key: 'reactor' }, started);
      this.createServices();
      this.stampModules();
      await Promise.all([...this.services.values()].map((s) => s.start()));
      if (this.cloud) await this.mount({ ext: this.cloud, key: 'cloud' }, started);
      for (const m of this.extensions) await this.mount(m, started);
    } catch (e) {
      await this.rollback(started);
      throw e;
    }
    this.log.info({ unit: this.config.unit.id, services: this.services.size }, 'agent started');
    this.bus.emit(
      'system/agent/started',
      { unit: this.config.unit.id, services: [...this.services.keys()] },
      'agent',
    );
  }

  /** The cloud link, fed the unit status: the config's version, and each service as it changes. */
  private cloudLink(config: NonNullable<ConfigT['cloud']>, outbox: Outbox): CloudLink {
    const cloud = new CloudLink(config, {
      bus: this.bus,
      clock: this.clock,
      log: this.log,
      outbox,
      unit: this.config.unit,
      statusWindow: this.config.status.window,
      random: this.opts.random,
    });
    cloud.update('unitConfig', 'unit', { version: this.version, status: 'installed' });
    const report = () => this.reportServices(cloud);
    this.releases.push(this.bus.on('system/service/#', report), this.bus.on('system/worker/#', report));
    return cloud;
  }

  /** Each service's state, restarts, last error and workers, as unit status items. */
  private reportServices(cloud: CloudLink): void {
    for (const [name, s] of Object.entries(this.servicesStatus())) {
      cloud.update('agent', name, {
        name,
        state: s.state,
        restarts: s.restarts,
        ...(s.lastError ? { error: s.lastError, code: s.code } : {}),
        workers: s.workers.map((w) => ({ name: w.name, state: w.state })),
      });
    }
  }

  /** The outbox dropped its oldest records: reported at once, then at most every 10 s with the count since. */
  private outboxDropped(n: number): void {
    this.dropsUnreported += n;
    if (this.dropTimer) return;
    const report = () => {
      const count = this.dropsUnreported;
      this.dropsUnreported = 0;
      const total = this.outbox?.dropped ?? count;
      const err = errors.OUTBOX_DROPPED(count, total);
      this.log.warn({ dropped: count, total }, err.message);
      this.bus.emit('system/outbox/dropped', { dropped: count, total, code: err.code }, 'outbox');
    };
    report();
    this.dropTimer = this.clock.setTimeout(() => {
      this.dropTimer = undefined;
      if (this.dropsUnreported > 0) this.outboxDropped(0);
    }, 10_000);
  }

  private async mount({ ext, key }: Mounted, started: Extension[]): Promise<void> {
    try {
      await ext.start();
    } catch (e) {
      const err = e instanceof PitcrewError ? e : errors.START_FAILED(ext.name, errorText(e));
      throw key && !err.key ? err.at(key) : err;
    }
    started.push(ext);
  }

  private async rollback(started: Extension[]): Promise<void> {
    this.running = false;
    for (const ext of started.reverse()) await ext.stop().catch(() => {});
    await Promise.all([...this.services.values()].map((s) => s.stop()));
    this.closeStores();
  }

  /** An error no service owns (thrown from a timer, a promise left rejected): reported, never fatal. */
  private strayError(e: Error): void {
    this.log.error({ err: e }, `stray error: ${errorText(e)}`);
    this.bus.emit('system/agent/error', { error: errorText(e), code: errors.STRAY_ERROR.code }, 'agent');
  }

  private stalled(ms: number): void {
    this.log.warn({ ms }, errors.STALLED(ms).message);
    this.bus.emit('system/agent/stalled', { ms }, 'agent');
  }

  /** A service that floods the bus: reported at most once a minute per service. */
  private flooded(service: string, dropped: number): void {
    if (!this.floodReports.due(service)) return;
    const err = errors.FLOOD(`service ${service}`, dropped);
    this.log.warn({ service, dropped }, err.message);
    this.bus.emit('system/agent/error', { service, error: err.message, code: err.code, dropped }, 'agent');
  }

  private serviceDeps(): ServiceDeps {
    return {
      bus: this.bus,
      clock: this.clock,
      log: this.log,
      signals: this.signals,
      reports: this.reports,
      kept: (service, worker) => this.kept.get(`${service}/${worker}`),
      unit: this.config.unit,
      baseDir: this.opts.baseDir ?? process.cwd(),
      onFlood: (service, dropped) => this.flooded(service, dropped),
      parts: (name, def, ctx) => serviceParts(name, def, ctx, this.shared!),
    };
  }

  private createServices(): void {
    for (const [name, def] of Object.entries(this.config.services) as [string, ServiceT][])
      this.addService(name, def);
  }

  private addService(name: string, def: ServiceT): void {
    if (!def.enabled) return;
    const deps = this.serviceDeps();
    const sup = new Supervisor(
      name,
      def.restart,
      () => new ServiceRuntime(name, def, deps),
      this.clock,
      this.bus,
      this.log,
      this.opts.random,
    );
    this.services.set(name, sup);
  }

  /**
   * Applies a new config (DESIGN §8) to the running agent: only services whose section changed are
   * restarted (added ones started, removed ones stopped), the others keep running with their
   * workers' state; the rule set is swapped in one synchronous step between two events, unchanged
   * rules keeping their runs and `for:` timers. Sections a running agent cannot take on (cloud,
   * unit …) make it throw PITCREW_CONFIG_RESTART before anything changes.
   */
  async apply(next: ConfigT): Promise<ConfigDiff> {
    const diff = diffConfigs(this.current, next, LIVE_SECTIONS, this.changedModules());
    if (diff.sections.length) throw errors.CONFIG_RESTART(diff.sections);
    if (!this.running) {
      this.current = next;
      this.version = configVersion(next);
      return diff;
    }
    for (const name of [...diff.services.removed, ...diff.services.changed]) {
      await this.services.get(name)?.stop();
      this.services.delete(name);
      for (const k of [...this.kept.keys()]) if (k.startsWith(`${name}/`)) this.kept.delete(k);
    }
    this.current = next;
    this.version = configVersion(next);
    this.stampModules();
    this.reactor.load(next.reactor.rules);
    const fresh = [...diff.services.changed, ...diff.services.added];
    for (const name of fresh) this.addService(name, next.services[name] as ServiceT);
    await Promise.all(fresh.map((name) => this.services.get(name)?.start()));
    const version = this.version;
    this.configState = { status: 'installed' };
    this.cloud?.update('unitConfig', 'unit', { version, status: 'installed', errorInfo: null });
    this.log.info({ version, services: diff.services, rules: diff.rules }, 'config applied');
    this.bus.emit('system/config/applied', { version, services: diff.services, rules: diff.rules }, 'agent');
    return diff;
  }

  /** Hands what arrives on `<prefix>/<topic>` to `fn` (a no-op without a cloud link). */
  onCloudMessage(topic: string, fn: (payload: Buffer) => void): void {
    this.cloud?.onMessage(topic, fn);
  }

  /** An item's status (a component, service, layer: DESIGN §5) for the unit status the cloud gets. */
  reportItem(
    section: 'components' | 'services' | 'layers',
    key: string,
    fields: Record<string, unknown>,
  ): void {
    this.cloud?.update(section, key, fields);
  }

  /** Reloads the config file (SIGHUP), when the reloader runs. */
  async reload(source: string): Promise<void> {
    await this.ports.reloader?.reload(source);
  }

  startUpdate(kind: UpdateKindT): void {
    if (!this.ports.updates) throw errors.UPDATE_OFF(kind);
    this.ports.updates.startUpdate(kind);
  }

  /** A config that failed its health check and was replaced by the previous one (DESIGN §8). */
  reverted(reason: string, failed: ConfigT): void {
    const version = configVersion(failed);
    this.log.error({ reason, version }, `config ${version} reverted: ${reason}`);
    this.configState = {
      status: 'error',
      errorInfo: { source: 'health', reasons: [`${version} reverted: ${reason}`] },
    };
    this.cloud?.update('unitConfig', 'unit', {
      version: this.version,
      status: 'installed',
      errorInfo: { reverted: version, reason },
    });
    this.bus.emit('system/config/reverted', { reason, reverted: version, running: this.version }, 'agent');
  }

  /** When each module file the running services use last changed, as of the last start or apply. */
  private moduleStamps = new Map<string, number>();

  private stampModules(): void {
    this.moduleStamps = new Map(
      Object.values(this.current.services).flatMap((s) =>
        moduleFiles(s).map((f) => [f, moduleStamp(f)] as const),
      ),
    );
  }

  /** Module files changed on disk since: the services that run them restart on the next apply. */
  private changedModules(): Set<string> {
    return new Set([...this.moduleStamps].filter(([f, t]) => moduleStamp(f) !== t).map(([f]) => f));
  }

  /** A config that was not applied: reported in the log, as `system/config/rejected`, and in the unit status. */
  /**
   * A config change was refused. `shared` is what may leave the unit (status, events): for a git
   * commit, positions without the messages, which can quote the files; the log has `reasons` whole.
   */
  rejected(source: string, reasons: string[], shared: string[] = reasons): void {
    this.log.error({ source, reasons }, `config from ${source} rejected: ${reasons.join('; ')}`);
    this.configState = { status: 'error', errorInfo: { source, reasons: shared } };
    this.cloud?.update('unitConfig', 'unit', {
      version: this.version,
      status: 'error',
      errorInfo: { source, reasons: shared },
    });
    this.bus.emit('system/config/rejected', { source, reasons: shared, running: this.version }, 'agent');
  }

  /** Stops workers and services, then the extensions, and closes the stores. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.bus.emit('system/agent/stopping', { unit: this.config.unit.id }, 'agent');
    const mounted = [...(this.cloud ? [this.cloud] : []), ...this.extensions.map((m) => m.ext)];
    // Every part gets a bounded time on the wall clock: one that never finishes (a silent broker,
    // a module's stop that hangs) is left behind, said, and the stop goes on.
    const bounded = (name: string, stop: () => Promise<void>) =>
      within(realClock, PART_STOP_MS, stop(), () => new Error(`not stopped within ${PART_STOP_MS} ms`)).catch(
        (e) => this.log.warn(`stopping ${name}: ${errorText(e)}`),
      );
    for (const ext of mounted.reverse()) await bounded(ext.name, () => ext.stop());
    await Promise.all([...this.services].map(([name, s]) => bounded(`service ${name}`, () => s.stop())));
    await this.reactor.stop();
    this.closeStores();
    this.log.info('agent stopped');
  }

  private closeStores(): void {
    this.dropTimer?.cancel();
    this.dropTimer = undefined;
    this.cloud = undefined;
    this.outbox?.close();
    this.stateStore?.close();
    for (const release of this.releases.splice(0).reverse()) release();
  }

  on(pattern: string, fn: Listener): () => void {
    return this.bus.on(pattern, fn);
  }

  emit(tag: string, data: Record<string, unknown> = {}): Event {
    return this.bus.emit(tag, data, 'api');
  }

  private runtime(service: string) {
    const sup = this.services.get(service);
    if (!sup) throw errors.SERVICE_UNKNOWN(service, [...this.services.keys()]);
    const state = sup.status().state;
    if (!sup.runtime || state !== 'running') throw errors.SERVICE_NOT_RUNNING(service, state);
    return sup.runtime;
  }

  /** Runs one handler of a running service; fails with PITCREW_MESSAGE_TIMEOUT past `timeoutMs`. */
  async call(
    service: string,
    handler: string,
    args: Record<string, unknown> = {},
    timeoutMs = CALL_TIMEOUT_MS,
  ): Promise<HandlerOutput> {
    return this.runtime(service).call(handler, args, timeoutMs);
  }

  async worker(service: string, name: string, action: WorkerActionT): Promise<WorkerStatus> {
    const w = this.runtime(service).workers.get(name);
    if (!w) throw errors.WORKER_UNKNOWN(service, name);
    if (action === 'kill') await w.kill();
    else w[action]();
    const now = w.status().state;
    if (now === 'paused' || now === 'killed') this.kept.set(`${service}/${name}`, now);
    else if (now === 'running') this.kept.set(`${service}/${name}`, 'started');
    if (this.cloud) this.reportServices(this.cloud);
    return w.status();
  }

  /** A returner for the `return` action: built-in or a module function, resolved as in a pipeline. */
  async returner(name: string): Promise<ReturnerFn> {
    const known = this.returners.get(name);
    if (known) return known;
    if (!this.shared) throw errors.AGENT_NOT_STARTED();
    const step = resolveStep(name, 'returner', { local: new Map(), handlers: [], driverHooks: [] });
    const fn = await buildStep(step, 'returner', { ...this.shared, service: 'reactor', log: this.log }, {});
    this.returners.set(name, fn);
    return fn;
  }

  async publish(topic: string, payload: string, qos: 0 | 1 | 2, retain: boolean): Promise<void> {
    if (!this.outbox || !this.cloud)
      throw errors.ACTION_UNAVAILABLE('publish', 'a cloud section in the config');
    await this.outbox.pushMessage('reactor', this.cloud.topic(topic), payload, qos, retain, this.clock.now());
  }

  private outboxStatus(): AgentStatus['outbox'] {
    const box = this.outbox;
    if (!box) return { queued: 0, bytes: 0, dropped: 0 };
    const oldest = box.oldest();
    return {
      queued: box.size,
      bytes: box.sizeBytes,
      dropped: box.dropped,
      ...(oldest !== undefined ? { oldest_age: Math.max(0, this.clock.now() - oldest) } : {}),
    };
  }

  private servicesStatus(): AgentStatus['services'] {
    const services: AgentStatus['services'] = {};
    for (const [name, sup] of this.services) {
      const s = sup.status();
      const workers =
        s.state === 'running' ? [...(sup.runtime?.workers.values() ?? [])].map((w) => w.status()) : [];
      const driver = s.state === 'running' ? sup.runtime?.driverStatus() : undefined;
      services[name] = {
        ...s,
        workers,
        events_dropped: sup.runtime?.inlet.dropped ?? 0,
        ...(driver ? { driver } : {}),
      };
    }
    return services;
  }

  status(): AgentStatus {
    const services = this.servicesStatus();
    return {
      unit: this.config.unit.id,
      uptime: this.clock.now() - this.startedAt,
      services,
      signals: this.signals.entries().length,
      outbox: this.outboxStatus(),
      cloud: this.cloud?.state() ?? { state: 'off', connects: 0, attempts: 0, sent: 0 },
      storage: this.storage.status(),
      events: this.bus.count,
      memory: memoryMB(),
      config: { version: this.version, ...this.configState },
    };
  }
}

/** A short digest of the running config: its version in the unit status until rollout names one. */
function configVersion(config: ConfigT): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function memoryMB(): AgentStatus['memory'] {
  const m = process.memoryUsage();
  return { rss: mb(m.rss), heap: mb(m.heapUsed), external: mb(m.external + m.arrayBuffers) };
}

export function createAgent(config: ConfigT, opts?: AgentOptions): Agent {
  return new Agent(config, opts);
}
