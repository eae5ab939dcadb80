import type { WorkerActionT } from '../../schemas/common.js';
import type { ServiceT } from '../../schemas/services.js';
import { type ServiceDeps, ServiceRuntime } from '../core/service.js';
import { Supervisor } from '../core/supervisor.js';
import type { HandlerOutput } from '../core/types.js';
import type { KeptState, WorkerStatus } from '../core/worker.js';
import { errors } from '../errors.js';
import type { AgentStatus } from '../parts/context.js';
import { servicesStatus } from './status.js';

/** What building a service needs; `kept` is filled in by the set. */
export type ServiceSetDeps = Omit<ServiceDeps, 'kept'> & { random?: () => number };

/**
 * The supervised services: which run, what operators did to their workers (kept across a
 * service's restarts), and the calls that reach into a running one.
 */
export class ServiceSet {
  readonly supervisors = new Map<string, Supervisor>();
  /** What operators did to workers (`service/worker` → state). */
  private readonly kept = new Map<string, KeptState>();

  constructor(private readonly deps: ServiceSetDeps) {}

  get names(): string[] {
    return [...this.supervisors.keys()];
  }

  /** Adds an enabled service (not started). */
  add(name: string, def: ServiceT): void {
    if (!def.enabled) return;
    const { random, ...rest } = this.deps;
    const deps: ServiceDeps = { ...rest, kept: (service, worker) => this.kept.get(`${service}/${worker}`) };
    const make = () => new ServiceRuntime(name, def, deps);
    const sup = new Supervisor(
      name,
      def.restart,
      make,
      deps.clock,
      deps.bus,
      deps.log,
      random,
      def.trigger_events,
    );
    this.supervisors.set(name, sup);
  }

  async start(names: readonly string[] = this.names): Promise<void> {
    await Promise.all(names.map((name) => this.supervisors.get(name)?.start()));
  }

  /** Stops and forgets a service, and what operators did to its workers. */
  async remove(name: string): Promise<void> {
    await this.supervisors.get(name)?.stop();
    this.supervisors.delete(name);
    for (const k of [...this.kept.keys()]) if (k.startsWith(`${name}/`)) this.kept.delete(k);
  }

  /** Stops every service, each through `bound` (a bounded wait). */
  async stop(bound: (name: string, stop: () => Promise<void>) => Promise<void>): Promise<void> {
    await Promise.all([...this.supervisors].map(([name, s]) => bound(`service ${name}`, () => s.stop())));
  }

  status(): AgentStatus['services'] {
    return servicesStatus(this.supervisors);
  }

  private runtime(service: string): ServiceRuntime {
    const sup = this.supervisors.get(service);
    if (!sup) throw errors.SERVICE_UNKNOWN(service, this.names);
    const state = sup.status().state;
    if (!sup.runtime || state !== 'running') throw errors.SERVICE_NOT_RUNNING(service, state);
    return sup.runtime;
  }

  /** Runs one handler of a running service; fails with PITCREW_MESSAGE_TIMEOUT past `timeoutMs`. */
  async call(
    service: string,
    handler: string,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<HandlerOutput> {
    return this.runtime(service).call(handler, args, timeoutMs);
  }

  /** Acts on a worker, and keeps what was done for the service's next start. */
  async worker(service: string, name: string, action: WorkerActionT): Promise<WorkerStatus> {
    const w = this.runtime(service).workers.get(name);
    if (!w) throw errors.WORKER_UNKNOWN(service, name);
    if (action === 'kill') await w.kill();
    else w[action]();
    const now = w.status().state;
    if (now === 'paused' || now === 'killed') this.kept.set(`${service}/${name}`, now);
    else if (now === 'running') this.kept.set(`${service}/${name}`, 'started');
    return w.status();
  }
}
