import type { Logger } from 'pino';
import type { ServiceT } from '../../schemas/services.js';
import { DRIVERS } from '../drivers/registry.js';
import type { DriverInstance } from '../drivers/types.js';
import type { HookContext, RecordSink, Result } from '../hooks/types.js';
import type { Bus } from './bus.js';
import type { Clock } from './clock.js';
import { HookResolver } from './hook-resolver.js';
import type { Pipeline } from './pipeline.js';
import type { SignalStore } from './signals.js';
import type { StateStore } from './state-store.js';
import { Worker } from './worker.js';

export interface ServiceDeps {
  bus: Bus;
  clock: Clock;
  log: Logger;
  signals: SignalStore;
  state: StateStore;
  records: RecordSink;
  unit: { id: string; timezone?: string; data_dir: string };
  baseDir: string;
}

/** What the hooks of one service (or the reactor's `return`) see. */
export function hookContext(service: string, deps: ServiceDeps, log: Logger = deps.log): HookContext {
  const { bus, clock, signals, state, records, unit } = deps;
  return { service, bus, clock, signals, state, records, log, dataDir: unit.data_dir, unit: { id: unit.id } };
}

/** One running service: its driver, its workers and their pipelines. Supervised from outside. */
export class ServiceRuntime {
  private driver?: DriverInstance;
  private resolver?: HookResolver;
  readonly workers = new Map<string, Worker>();

  constructor(
    readonly name: string,
    private readonly def: ServiceT,
    private readonly deps: ServiceDeps,
  ) {}

  async start(fail: (reason: Error) => void): Promise<void> {
    const { bus, clock, log, unit, baseDir } = this.deps;
    const driverDef = DRIVERS[this.def.driver];
    const settings = driverDef.settings.parse(this.def.settings);
    const slog = log.child({ service: this.name });
    this.driver = await driverDef.create(settings, {
      service: this.name,
      bus,
      clock,
      log: slog,
      baseDir,
      fail,
    });
    this.resolver = new HookResolver(
      hookContext(this.name, this.deps, slog),
      this.def.hooks,
      this.driver.hooks ?? [],
      this.driver.handlers,
    );
    const workers: Worker[] = [];
    for (const w of this.def.workers) {
      const pipelines: Pipeline[] = [];
      for (const m of w.messages) {
        const r = this.resolver;
        pipelines.push({
          handlerName: m.handler,
          handler: await r.resolve(m.handler, 'handler'),
          args: m.args,
          converters: await Promise.all(m.converter.map((n) => r.resolve(n, 'converter'))),
          triggers: await Promise.all(m.trigger.map((n) => r.resolve(n, 'trigger'))),
          filters: await Promise.all(m.filter.map((n) => r.resolve(n, 'filter'))),
          enrichers: await Promise.all(m.enricher.map((n) => r.resolve(n, 'enricher'))),
          returners: await Promise.all(m.returner.map((n) => r.resolve(n, 'returner'))),
        });
      }
      workers.push(new Worker(this.name, w, pipelines, clock, bus, unit.timezone));
    }
    await this.driver.start();
    for (const [i, worker] of workers.entries()) {
      this.workers.set(worker.name, worker);
      if (this.def.workers[i]!.auto_start) worker.start();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.kill()));
    await this.driver?.stop();
  }

  /** Runs one handler (a driver command or a handler hook) outside any worker. */
  async call(handler: string, args: Record<string, unknown>): Promise<Result | Result[] | undefined | void> {
    if (!this.resolver) throw new Error(`service '${this.name}' is not running`);
    const fn = await this.resolver.resolve(handler, 'handler');
    return fn(args);
  }
}
