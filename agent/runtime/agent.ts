import type { WorkerActionT } from '../../schemas/common.js';
import type { ServiceT } from '../../schemas/services.js';
import type { LinkGate } from '../cloud/mqtt-link.js';
import { type ConfigDiff, diffConfigs } from '../config/diff.js';
import { allRules } from '../config/rules.js';
import type { ConfigT } from '../config/schema.js';
import { Bus, type Event } from '../core/bus.js';
import { type Clock, realClock } from '../core/clock.js';
import { ErrorReports } from '../core/error-reports.js';
import { catchStrayErrors } from '../core/fault-scope.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { SignalStore } from '../core/signals.js';
import { watchStalls } from '../core/stall-watch.js';
import { StateStore, stateFile } from '../core/state-store.js';
import { lockDataDir, openOrReplace, readOnly, StorageFaults } from '../core/storage.js';
import type { Supervisor } from '../core/supervisor.js';
import type { Extension, HandlerOutput, ReturnerFn } from '../core/types.js';
import type { WorkerStatus } from '../core/worker.js';
import { errors, errorText, type PitcrewError } from '../errors.js';
import type { AgentStatus, ConfigOrigin, OperatorPort, Part, PartContext, Ports } from '../parts/context.js';
import { conditionFactory } from '../reactor/condition.js';
import { Reactor } from '../reactor/reactor.js';
import { ConfigState } from './config-state.js';
import { LIVE_SECTIONS } from './extensions.js';
import { AgentFaults } from './faults.js';
import { type Mounted, MountedParts } from './mounted-parts.js';
import { nodeInfo } from './node-info.js';
import { AgentReactorHost } from './reactor-host.js';
import { type SharedHookContext, serviceParts } from './service-parts.js';
import { ServiceSet } from './service-set.js';
import { memoryMB } from './status.js';
import { Uplink, uplinkStatus } from './uplink.js';

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

/**
 * The running agent's lifecycle: the stores, the bus, the supervised services, the reactor and
 * the parts the root added, started in that order and stopped in reverse, each stop bounded.
 */
export class Agent {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signals = new SignalStore();
  readonly dataDir: string;
  readonly reactor: Reactor;
  /** What the parts provide one another (DESIGN §1: the composition root wires them). */
  private readonly ports: Ports = {};
  /** The parts the root added, started after the services in the order added. */
  private readonly added: Mounted[] = [];
  private readonly parts: MountedParts;
  private readonly serviceSet: ServiceSet;
  private readonly host: AgentReactorHost;
  private readonly storage: StorageFaults;
  private readonly faults: AgentFaults;
  private readonly configState: ConfigState;
  /** The stores, once started. */
  private shared?: SharedHookContext;
  private uplink?: Uplink;
  private startedAt = 0;
  private running = false;
  /** The start under way, which a stop asked for meanwhile waits for. */
  private starting?: Promise<void>;
  /** What start() took that stop() gives back: the data-dir lock, the stray-error and stall watches. */
  private releases: (() => void)[] = [];
  /** Jitter source for restart and reconnect backoff. */
  private readonly random?: () => number;

  constructor(
    private current: ConfigT,
    opts: AgentOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger ?? silentLogger;
    this.dataDir = opts.dataDir ?? current.unit.data_dir;
    this.bus = new Bus(this.clock, (err, event) =>
      this.log.error({ tag: event.tag }, `listener failed on ${event.tag}: ${errorText(err)}`),
    );
    this.parts = new MountedParts(this.log);
    this.storage = new StorageFaults(this.bus, this.clock, this.log);
    this.faults = new AgentFaults(this.bus, this.clock, this.log, () => this.uplink?.outbox.dropped ?? 0);
    this.configState = new ConfigState(current, this.bus, this.log, () => this.uplink?.link);
    const kernel = {
      bus: this.bus,
      clock: this.clock,
      log: this.log,
      signals: this.signals,
      unit: current.unit,
    };
    this.serviceSet = new ServiceSet({
      ...kernel,
      reports: new ErrorReports(this.clock, this.log),
      baseDir: opts.baseDir ?? process.cwd(),
      dataDir: this.dataDir,
      random: opts.random,
      onFlood: (service, dropped) => this.faults.flooded(service, dropped),
      parts: (name, def, ctx) => serviceParts(name, def, ctx, this.shared!),
    });
    this.host = new AgentReactorHost({
      ...kernel,
      services: this.serviceSet,
      ports: this.ports,
      hooks: () => this.shared,
      publish: (topic, payload, qos, retain) => this.publish(topic, payload, qos, retain),
    });
    this.reactor = new Reactor(this.host, allRules(current), { maxDepth: current.reactor.max_depth });
    this.random = opts.random;
  }

  /** The supervised services by name. */
  get services(): ReadonlyMap<string, Supervisor> {
    return this.serviceSet.supervisors;
  }

  /** The running config: the one given at construction, or the last one applied. */
  get config(): ConfigT {
    return this.current;
  }

  get state(): StateStore {
    return this.host.state;
  }

  /**
   * Adds a part, started after the services in the order added; `key` names its config section.
   * What it provides is open to the parts added after it.
   */
  use(part: Part, key?: string): this {
    this.added.push({ ext: part, key });
    Object.assign(this.ports, part.provides);
    return this;
  }

  /** The context a part is built from: the kernel's services, its own section, and the ports. */
  context<S>(section: S, origin: Partial<ConfigOrigin> = {}, env = process.env): PartContext<S> {
    const agent = this;
    return {
      section,
      bus: this.bus,
      clock: this.clock,
      log: this.log,
      dataDir: this.dataDir,
      unit: this.current.unit,
      signals: this.signals,
      env,
      origin: { ...origin, file: origin.file ?? '', files: origin.files ?? [], raw: origin.raw },
      status: () => this.status(),
      flush: async () => this.flush(),
      storage: this.storage,
      cloud: {
        configured: this.current.cloud !== undefined,
        onMessage: (topic, fn) => this.uplink?.link?.onMessage(topic, fn),
        publish: (topic, payload, qos, retain) => this.publish(topic, payload, qos, retain),
        reportItem: (sec, key, fields) => this.uplink?.update(sec, key, fields),
        dropItem: (sec, key) => this.uplink?.drop(sec, key),
        shed: (bytes) => this.uplink?.outbox.shed(bytes) ?? { dropped: 0, freed: 0 },
      },
      config: {
        get current() {
          return agent.config;
        },
        apply: (next) => this.apply(next),
        rejected: (source, reasons, shared) => this.rejected(source, reasons, shared),
        reverted: (reason, failed) => this.configState.reverted(reason, failed),
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
    this.starting = this.startParts();
    try {
      await this.starting;
    } finally {
      this.starting = undefined;
    }
  }

  private async startParts(): Promise<void> {
    this.startedAt = this.clock.now();
    try {
      // A card the kernel remounted read-only: the agent runs on from memory, and says so.
      if (readOnly(this.dataDir)) this.storage.readOnly(this.dataDir);
      const damaged = (file: string, e: PitcrewError) => this.storage.damaged(file, e);
      // The lock's database creates the data directory (0700) before anything else touches it.
      this.releases.push(lockDataDir(this.dataDir, damaged));
      this.releases.push(catchStrayErrors((e) => this.faults.stray(e)));
      this.releases.push(watchStalls((ms) => this.faults.stalled(ms)));
      const uplink = this.openUplink(damaged);
      this.shared = {
        bus: this.bus,
        clock: this.clock,
        signals: this.signals,
        state: openOrReplace(
          stateFile(this.dataDir),
          () => new StateStore(this.dataDir, (file, e) => this.storage.report(file, e)),
          damaged,
        ),
        records: uplink.outbox,
        dataDir: this.dataDir,
        unit: { id: this.current.unit.id, timezone: this.current.unit.timezone },
        condition: conditionFactory(this.host),
      };
      for (const [name, def] of Object.entries(this.current.services))
        this.serviceSet.add(name, def as ServiceT);
      this.configState.running(this.current);
      // Rules listen before services start, so they see what services say while starting; the
      // services stop before the rules, for the same reason.
      await this.parts.start({ ext: this.reactor, key: 'reactor' });
      await this.parts.start({ ext: this.services$, key: 'services' });
      if (uplink.link) await this.parts.start({ ext: uplink.link, key: 'cloud' });
      for (const m of this.added) await this.parts.start(m);
    } catch (e) {
      this.running = false;
      await this.parts.rollback();
      await this.serviceSet.stop((_name, stop) => stop());
      this.closeStores();
      throw e;
    }
    const { id } = this.current.unit;
    this.log.info({ unit: id, services: this.services.size }, 'agent started');
    this.bus.emit('system/agent/started', { unit: id, services: this.serviceSet.names }, 'agent');
  }

  /** The services as one part: started together, each stopped within the part bound. */
  private readonly services$: Extension = {
    name: 'services',
    start: () => this.serviceSet.start(),
    stop: () => this.serviceSet.stop(this.parts.bounded),
  };

  /** The outbox and cloud link, the link fed the unit status: the config's version, and each service as it changes. */
  private openUplink(damaged: (file: string, e: PitcrewError) => void): Uplink {
    const uplink = new Uplink(this.current, {
      damaged,
      bus: this.bus,
      clock: this.clock,
      log: this.log,
      dataDir: this.dataDir,
      random: this.random,
      onWriteError: (file, e) => this.storage.report(file, e),
      onDropped: (n) => this.faults.outboxDropped(n),
      ...this.linkGate(),
    });
    this.uplink = uplink;
    if (uplink.link) {
      uplink.update('config', 'agent', { version: this.configState.version, status: 'installed' });
      uplink.update('nodes', this.current.unit.id, nodeInfo(this.current.unit.id, this.dataDir));
      const report = () => uplink.services(this.serviceSet.status());
      this.releases.push(this.bus.on('system/service/#', report), this.bus.on('system/worker/#', report));
    }
    return uplink;
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
    if (this.running)
      for (const name of [...diff.services.removed, ...diff.services.changed])
        await this.serviceSet.remove(name);
    this.current = next;
    this.configState.running(next);
    if (!this.running) return diff;
    this.reactor.load(allRules(next));
    const fresh = [...diff.services.changed, ...diff.services.added];
    for (const name of fresh) this.serviceSet.add(name, next.services[name] as ServiceT);
    await this.serviceSet.start(fresh);
    this.configState.applied(diff);
    return diff;
  }

  /** Reloads the config file (SIGHUP), when the reloader runs. */
  async reload(source: string): Promise<void> {
    await this.ports.reloader?.reload(source);
  }

  rejected(source: string, reasons: string[], shared?: string[]): void {
    this.configState.rejected(source, reasons, shared);
  }

  /**
   * Stops the parts, then the services, then the rules, and closes the stores. A stop asked for
   * while the agent starts (a SIGTERM during a slow part) waits for the start to end, so what it
   * started is stopped and nothing starts after the stop.
   */
  async stop(): Promise<void> {
    await this.starting?.catch(() => {});
    if (!this.running) return;
    this.running = false;
    this.bus.emit('system/agent/stopping', { unit: this.current.unit.id }, 'agent');
    await this.parts.stop();
    this.closeStores();
    this.log.info('agent stopped');
  }

  private closeStores(): void {
    this.faults.stop();
    this.uplink?.close();
    this.uplink = undefined;
    this.shared?.state.close();
    for (const release of this.releases.splice(0).reverse()) release();
  }

  emit(tag: string, data: Record<string, unknown> = {}): Event {
    return this.bus.emit(tag, data, 'api');
  }

  /** Runs one handler of a running service; fails with PITCREW_MESSAGE_TIMEOUT past `timeoutMs`. */
  call(service: string, handler: string, args = {}, timeoutMs = CALL_TIMEOUT_MS): Promise<HandlerOutput> {
    return this.serviceSet.call(service, handler, args, timeoutMs);
  }

  async worker(service: string, name: string, action: WorkerActionT): Promise<WorkerStatus> {
    const status = await this.serviceSet.worker(service, name, action);
    this.uplink?.services(this.serviceSet.status());
    return status;
  }

  /** A returner as a rule's `return` action gets it. */
  returner(name: string): Promise<ReturnerFn> {
    return this.host.returner(name);
  }

  private publish(topic: string, payload: string, qos: 0 | 1 | 2, retain: boolean): Promise<void> {
    if (!this.uplink) return Promise.reject(errors.AGENT_NOT_STARTED());
    return this.uplink.publish(topic, payload, qos, retain, this.clock.now());
  }

  /** `cloud.mqtt.when` over the signals: the link waits while it is false. */
  private linkGate(): { gate?: LinkGate } {
    const when = this.current.cloud?.mqtt.when;
    if (when === undefined) return {};
    const open = conditionFactory({ signals: this.signals, clock: this.clock, unit: this.current.unit })(
      when,
    );
    return {
      gate: { open: () => open({ signals: this.signals.tree }), watch: (fn) => this.signals.watch(fn) },
    };
  }

  /** Writes what must not be lost: the outbox's pending group commit, the state store's log. */
  flush(): void {
    this.uplink?.outbox.flush();
    this.shared?.state.checkpoint();
  }

  status(): AgentStatus {
    const now = this.clock.now();
    return {
      unit: this.current.unit.id,
      uptime: now - this.startedAt,
      services: this.serviceSet.status(),
      signals: this.signals.entries().length,
      ...uplinkStatus(this.uplink, now),
      storage: this.storage.status(),
      events: this.bus.count,
      memory: memoryMB(),
      config: this.configState.status(),
      ...(this.ports.updates ? { instances: this.ports.updates.instanceStatus() } : {}),
      ...(this.ports.storage ? { disk: this.ports.storage.status() } : {}),
    };
  }
}

export function createAgent(config: ConfigT, opts?: AgentOptions): Agent {
  return new Agent(config, opts);
}
