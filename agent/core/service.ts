import type { Logger } from 'pino';
import type { HookKind, ServiceT } from '../../schemas/services.js';
import { errors } from '../errors.js';
import type { Bus } from './bus.js';
import type { Clock } from './clock.js';
import type { Pipeline } from './pipeline.js';
import type { DriverContext, DriverInstance, HandlerOutput, HookFns } from './types.js';
import { Worker } from './worker.js';

/** Turns a step name of this service into its function (DESIGN §3.1 name resolution). */
export type StepResolver = <K extends HookKind>(name: string, kind: K) => Promise<HookFns[K]>;

/** What the composition root supplies to run one service: its driver, and how its step names resolve. */
export interface ServiceParts {
  driver: DriverInstance;
  resolve: StepResolver;
}

export interface ServiceDeps {
  bus: Bus;
  clock: Clock;
  log: Logger;
  unit: { timezone?: string };
  baseDir: string;
  /** Builds the driver and the step resolver of a service. */
  parts(name: string, def: ServiceT, ctx: DriverContext): Promise<ServiceParts>;
}

/** One running service: its driver, its workers and their pipelines. Supervised from outside. */
export class ServiceRuntime {
  private parts?: ServiceParts;
  readonly workers = new Map<string, Worker>();

  constructor(
    readonly name: string,
    private readonly def: ServiceT,
    private readonly deps: ServiceDeps,
  ) {}

  async start(fail: (reason: Error) => void): Promise<void> {
    const { bus, clock, log, unit, baseDir } = this.deps;
    const ctx: DriverContext = {
      service: this.name,
      bus,
      clock,
      log: log.child({ service: this.name }),
      baseDir,
      fail,
    };
    const parts = await this.deps.parts(this.name, this.def, ctx);
    this.parts = parts;
    const { resolve } = parts;
    const workers: Worker[] = [];
    for (const w of this.def.workers) {
      const pipelines: Pipeline[] = [];
      for (const m of w.messages) {
        pipelines.push({
          handlerName: m.handler,
          handler: await resolve(m.handler, 'handler'),
          args: m.args,
          timeout: m.timeout,
          converters: await Promise.all(m.converter.map((n) => resolve(n, 'converter'))),
          triggers: await Promise.all(m.trigger.map((n) => resolve(n, 'trigger'))),
          filters: await Promise.all(m.filter.map((n) => resolve(n, 'filter'))),
          enrichers: await Promise.all(m.enricher.map((n) => resolve(n, 'enricher'))),
          returners: await Promise.all(m.returner.map((n) => resolve(n, 'returner'))),
        });
      }
      workers.push(new Worker(this.name, w, pipelines, clock, bus, unit.timezone));
    }
    await parts.driver.start();
    for (const [i, worker] of workers.entries()) {
      this.workers.set(worker.name, worker);
      if (this.def.workers[i]!.auto_start) worker.start();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.kill()));
    await this.parts?.driver.stop();
  }

  /** Runs one handler (a driver command or a handler hook) outside any worker. */
  async call(handler: string, args: Record<string, unknown>): Promise<HandlerOutput> {
    if (!this.parts) throw errors.SERVICE_NOT_RUNNING(this.name, 'starting');
    const fn = await this.parts.resolve(handler, 'handler');
    return fn(args);
  }
}
