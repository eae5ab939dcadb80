import type { ConfigT } from '../../schemas/config.js';
import { Outbox } from '../cloud/outbox.js';
import type { Result, ReturnerFn } from '../hooks/types.js';
import type { ReactorHost } from '../reactor/host.js';
import { Reactor } from '../reactor/reactor.js';
import { Bus, type Event, type Listener } from './bus.js';
import { type Clock, realClock } from './clock.js';
import type { Extension } from './extension.js';
import { HookResolver } from './hook-resolver.js';
import { type Logger, silentLogger } from './logger.js';
import { errorText } from './pipeline.js';
import { hookContext, type ServiceDeps, ServiceRuntime } from './service.js';
import { SignalStore } from './signals.js';
import { StateStore } from './state-store.js';
import { type ServiceStatus, Supervisor } from './supervisor.js';
import type { WorkerStatus } from './worker.js';

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

export type WorkerAction = 'start' | 'pause' | 'resume' | 'kill';

export interface AgentStatus {
  unit: string;
  uptime: number;
  services: Record<string, ServiceStatus & { workers: WorkerStatus[] }>;
  signals: number;
  outbox: { queued: number; dropped: number };
  events: number;
}

/** The running agent: stores, bus, supervised services, the reactor and the extensions wired to them. */
export class Agent implements ReactorHost {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signals = new SignalStore();
  readonly services = new Map<string, Supervisor>();
  readonly dataDir: string;
  readonly reactor: Reactor;
  private readonly extensions: Extension[] = [];
  private readonly returners = new Map<string, ReturnerFn>();
  private stateStore?: StateStore;
  private deps?: ServiceDeps;
  private outbox?: Outbox;
  private startedAt = 0;
  private running = false;

  constructor(
    readonly config: ConfigT,
    private readonly opts: AgentOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger ?? silentLogger;
    this.dataDir = opts.dataDir ?? config.unit.data_dir;
    this.bus = new Bus(this.clock, (err, event) =>
      this.log.error({ tag: event.tag }, `listener failed on ${event.tag}: ${errorText(err)}`),
    );
    this.reactor = new Reactor(this, config.reactor.rules);
  }

  get unit(): { id: string; timezone?: string } {
    return this.config.unit;
  }

  get state(): StateStore {
    if (!this.stateStore) throw new Error('agent not started');
    return this.stateStore;
  }

  /** Adds a feature; started after the services, in the order added. */
  use(ext: Extension): this {
    this.extensions.push(ext);
    return this;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.clock.now();
    this.stateStore = new StateStore(this.dataDir);
    this.outbox = new Outbox(this.dataDir, this.config.cloud?.outbox.max_records);
    this.deps = {
      bus: this.bus,
      clock: this.clock,
      log: this.log,
      signals: this.signals,
      state: this.stateStore,
      records: this.outbox,
      unit: { ...this.config.unit, data_dir: this.dataDir },
      baseDir: this.opts.baseDir ?? process.cwd(),
    };
    for (const [name, def] of Object.entries(this.config.services)) {
      if (!def.enabled) continue;
      const sup = new Supervisor(
        name,
        def.restart,
        () => new ServiceRuntime(name, def, this.deps!),
        this.clock,
        this.bus,
        this.log,
        this.opts.random,
      );
      this.services.set(name, sup);
    }
    // Rules listen before services start, so they see what services say while starting.
    await this.reactor.start();
    await Promise.all([...this.services.values()].map((s) => s.start()));
    for (const ext of this.extensions) await ext.start();
    this.log.info({ unit: this.config.unit.id, services: this.services.size }, 'agent started');
    this.bus.emit(
      'system/agent/started',
      { unit: this.config.unit.id, services: [...this.services.keys()] },
      'agent',
    );
  }

  /** Stops workers and services, then the extensions, and closes the stores. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.bus.emit('system/agent/stopping', { unit: this.config.unit.id }, 'agent');
    for (const ext of [...this.extensions].reverse()) {
      await ext.stop().catch((e) => this.log.warn(`stopping ${ext.name}: ${errorText(e)}`));
    }
    await Promise.all([...this.services.values()].map((s) => s.stop()));
    await this.reactor.stop();
    this.outbox?.close();
    this.stateStore?.close();
    this.log.info('agent stopped');
  }

  on(pattern: string, fn: Listener): () => void {
    return this.bus.on(pattern, fn);
  }

  emit(tag: string, data: Record<string, unknown> = {}): Event {
    return this.bus.emit(tag, data, 'api');
  }

  private runtime(service: string) {
    const sup = this.services.get(service);
    if (!sup)
      throw new Error(
        `no service '${service}' (services: ${[...this.services.keys()].join(', ') || 'none'})`,
      );
    if (!sup.runtime || sup.status().state !== 'running')
      throw new Error(`service '${service}' is ${sup.status().state}`);
    return sup.runtime;
  }

  async call(
    service: string,
    handler: string,
    args: Record<string, unknown> = {},
  ): Promise<Result | Result[] | undefined | void> {
    return this.runtime(service).call(handler, args);
  }

  async worker(service: string, name: string, action: WorkerAction): Promise<WorkerStatus> {
    const w = this.runtime(service).workers.get(name);
    if (!w) throw new Error(`service '${service}' has no worker '${name}'`);
    if (action === 'kill') await w.kill();
    else w[action]();
    return w.status();
  }

  /** A returner for the `return` action: built-in or a module function, as in a pipeline. */
  async returner(name: string): Promise<ReturnerFn> {
    const known = this.returners.get(name);
    if (known) return known;
    if (!this.deps) throw new Error('agent not started');
    const fn = await new HookResolver(hookContext('reactor', this.deps), [], [], {}).resolve(
      name,
      'returner',
    );
    this.returners.set(name, fn);
    return fn;
  }

  status(): AgentStatus {
    const services: AgentStatus['services'] = {};
    for (const [name, sup] of this.services) {
      const s = sup.status();
      const workers =
        s.state === 'running' ? [...(sup.runtime?.workers.values() ?? [])].map((w) => w.status()) : [];
      services[name] = { ...s, workers };
    }
    return {
      unit: this.config.unit.id,
      uptime: this.clock.now() - this.startedAt,
      services,
      signals: this.signals.entries().length,
      outbox: { queued: this.outbox?.size ?? 0, dropped: this.outbox?.dropped ?? 0 },
      events: this.bus.count,
    };
  }
}

export function createAgent(config: ConfigT, opts?: AgentOptions): Agent {
  return new Agent(config, opts);
}
