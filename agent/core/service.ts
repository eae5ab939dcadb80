import type { Logger } from 'pino';
import type { HookKind, ServiceT } from '../../schemas/services.js';
import type { Bus } from './bus.js';
import { type Clock, type ScopedClock, timerScope } from './clock.js';
import { within } from './deadline.js';
import type { ErrorReports } from './error-reports.js';
import { asError, errors } from './errors.js';
import { owned } from './fault-scope.js';
import { Inlet } from './inlet.js';
import type { Pipeline } from './pipeline.js';
import type { SignalStore } from './signals.js';
import type { DriverContext, DriverInstance, HandlerOutput, HookFns } from './types.js';
import type { KeptState } from './worker.js';
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
  /** Reports a source that floods the bus (events dropped so far). */
  onFlood?: (service: string, dropped: number) => void;
  clock: Clock;
  log: Logger;
  signals: SignalStore;
  /** Logs message errors: the first time, then once a minute per distinct error. */
  reports: ErrorReports;
  /** What an operator last did to a worker (pause, kill, start), to keep across a restart. */
  kept?: (service: string, worker: string) => KeptState | undefined;
  unit: { timezone?: string };
  baseDir: string;
  dataDir: string;
  /** Builds the driver and the step resolver of a service. */
  parts(name: string, def: ServiceT, ctx: DriverContext): Promise<ServiceParts>;
}

/** Lets a promise settle if it does so at once (within a turn of the event loop). */
const aTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One running service: its driver, its workers and their pipelines. Supervised from outside.
 * Everything the service runs, and everything that schedules, runs as the service's own code:
 * an error thrown from one of its timers or a promise it leaves rejected fails this service only.
 */
export class ServiceRuntime {
  private parts?: ServiceParts;
  private fail: (reason: Error) => void = () => {};
  readonly workers = new Map<string, Worker>();
  readonly inlet: Inlet;
  /** The clock of this run's driver, hooks and workers: what they left pending ends with the run. */
  private readonly clock: ScopedClock;

  constructor(
    readonly name: string,
    private readonly def: ServiceT,
    private readonly deps: ServiceDeps,
  ) {
    this.inlet = new Inlet(deps.bus, (n) => deps.onFlood?.(name, n));
    this.clock = timerScope(deps.clock);
  }

  start(fail: (reason: Error) => void): Promise<void> {
    this.fail = fail;
    return owned(fail, () => this.startOwned(fail));
  }

  private async startOwned(fail: (reason: Error) => void): Promise<void> {
    const { bus, log, unit, baseDir, dataDir, signals } = this.deps;
    const clock = this.clock;
    const ctx: DriverContext = {
      service: this.name,
      bus: this.inlet,
      clock,
      log: log.child({ service: this.name }),
      baseDir,
      dataDir,
      fail,
      signal: (type, value, ts) => signals.set(this.name, type, value, ts),
      read: (path) => signals.byPath(path)?.value,
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
      workers.push(new Worker(this.name, w, pipelines, clock, bus, this.deps.reports, unit.timezone));
    }
    // `start()` may be the service's whole life (a loop until stopped): it is running while its
    // promise is pending, and a rejection, then or later, is a failure.
    let settled = false;
    const life = parts.driver.start().finally(() => {
      settled = true;
    });
    await Promise.race([life, aTurn()]);
    if (!settled) life.catch((e: unknown) => fail(asError(e)));
    for (const [i, worker] of workers.entries()) {
      this.workers.set(worker.name, worker);
      const kept = this.deps.kept?.(this.name, worker.name);
      if (kept === 'paused' || kept === 'killed') worker.hold(kept);
      else if (kept === 'started' || this.def.workers[i]!.auto_start) worker.start();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.kill()));
    await this.parts?.driver.stop();
    this.clock.cancelAll();
  }

  /** The driver's own status, when it reports one. */
  driverStatus(): Record<string, unknown> | undefined {
    return this.parts?.driver.status?.();
  }

  /**
   * Runs one handler (a driver command or a handler hook) outside any worker, as the service's
   * code; past `timeoutMs` it fails with PITCREW_MESSAGE_TIMEOUT, as a message would.
   */
  call(handler: string, args: Record<string, unknown>, timeoutMs: number): Promise<HandlerOutput> {
    const parts = this.parts;
    if (!parts) return Promise.reject(errors.SERVICE_NOT_RUNNING(this.name, 'starting'));
    const work = owned(this.fail, async () => (await parts.resolve(handler, 'handler'))(args));
    return within(this.deps.clock, timeoutMs, work, () => errors.MESSAGE_TIMEOUT(handler, timeoutMs));
  }
}
