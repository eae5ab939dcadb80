import type { UpdateKindT, WorkerActionT } from '../../schemas/common.js';
import type { ServiceT } from '../../schemas/services.js';
import { CloudLink } from '../cloud/cloud-link.js';
import { Outbox } from '../cloud/outbox.js';
import { type ConfigDiff, diffConfigs } from '../config/diff.js';
import type { ConfigT } from '../config/schema.js';
import { Bus, type Event, type Listener } from '../core/bus.js';
import { type Clock, realClock } from '../core/clock.js';
import { within } from '../core/deadline.js';
import { ErrorReports } from '../core/error-reports.js';
import { catchStrayErrors } from '../core/fault-scope.js';
import { type Logger, silentLogger } from '../core/logger.js';
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
import { ConfigState } from './config-state.js';
import { LIVE_SECTIONS } from './extensions.js';
import { AgentFaults } from './faults.js';
import { type SharedHookContext, serviceParts } from './service-parts.js';
import { memoryMB, outboxStatus, reportServices, servicesStatus } from './status.js';

/** How long each part of the agent may take to stop before the stop goes on without it. */
const PART_STOP_MS = 1000;

/** How long a call (`pitcrew call`, the `call` action) waits for its handler by default: a message's default timeout. */
const CALL_TIMEOUT_MS = 10_000;
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
  private readonly faults: AgentFaults;
  private readonly configState: ConfigState;
  private readonly reports: ErrorReports;
  /** What operators did to workers (`service/worker` → state), kept across service restarts. */
  private readonly kept = new Map<string, KeptState>();

  constructor(
    private current: ConfigT,
    private readonly opts: AgentOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger ?? silentLogger;
    this.dataDir = opts.dataDir ?? current.unit.data_dir;
    this.bus = new Bus(this.clock, (err, event) =>
      this.log.error({ tag: event.tag }, `listener failed on ${event.tag}: ${errorText(err)}`),
    );
    this.reactor = new Reactor(this, current.reactor.rules, { maxDepth: current.reactor.max_depth });
    this.storage = new StorageFaults(this.bus, this.clock, this.log);
    this.faults = new AgentFaults(this.bus, this.clock, this.log, () => this.outbox?.dropped ?? 0);
    this.configState = new ConfigState(current, this.bus, this.log, () => this.cloud);
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
      this.releases.push(catchStrayErrors((e) => this.faults.stray(e)));
      this.releases.push(watchStalls((ms) => this.faults.stalled(ms)));
      this.stateStore = new StateStore(this.dataDir);
      const box = this.config.cloud?.outbox;
      this.outbox = new Outbox(
        this.dataDir,
        { maxRecords: box?.max_records ?? 1_000_000, maxBytes: box?.max_bytes ?? 256 * 1024 ** 2 },
        {
          onWriteError: (file, e) => this.storage.report(file, e),
          onDropped: (n) => this.faults.outboxDropped(n),
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
      this.configState.running(this.current);
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
    cloud.update('unitConfig', 'unit', { version: this.configState.version, status: 'installed' });
    const report = () => reportServices(cloud, servicesStatus(this.services));
    this.releases.push(this.bus.on('system/service/#', report), this.bus.on('system/worker/#', report));
    return cloud;
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
      onFlood: (service, dropped) => this.faults.flooded(service, dropped),
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
    const diff = diffConfigs(this.current, next, LIVE_SECTIONS, this.configState.changedModules());
    if (diff.sections.length) throw errors.CONFIG_RESTART(diff.sections);
    if (!this.running) {
      this.current = next;
      this.configState.running(next);
      return diff;
    }
    for (const name of [...diff.services.removed, ...diff.services.changed]) {
      await this.services.get(name)?.stop();
      this.services.delete(name);
      for (const k of [...this.kept.keys()]) if (k.startsWith(`${name}/`)) this.kept.delete(k);
    }
    this.current = next;
    this.configState.running(next);
    this.reactor.load(next.reactor.rules);
    const fresh = [...diff.services.changed, ...diff.services.added];
    for (const name of fresh) this.addService(name, next.services[name] as ServiceT);
    await Promise.all(fresh.map((name) => this.services.get(name)?.start()));
    this.configState.applied(diff);
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

  rejected(source: string, reasons: string[], shared?: string[]): void {
    this.configState.rejected(source, reasons, shared);
  }

  reverted(reason: string, failed: ConfigT): void {
    this.configState.reverted(reason, failed);
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
    this.faults.stop();
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
    if (this.cloud) reportServices(this.cloud, servicesStatus(this.services));
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

  status(): AgentStatus {
    const services = servicesStatus(this.services);
    return {
      unit: this.config.unit.id,
      uptime: this.clock.now() - this.startedAt,
      services,
      signals: this.signals.entries().length,
      outbox: outboxStatus(this.outbox, this.clock.now()),
      cloud: this.cloud?.state() ?? { state: 'off', connects: 0, attempts: 0, sent: 0 },
      storage: this.storage.status(),
      events: this.bus.count,
      memory: memoryMB(),
      config: this.configState.status(),
    };
  }
}

export function createAgent(config: ConfigT, opts?: AgentOptions): Agent {
  return new Agent(config, opts);
}
