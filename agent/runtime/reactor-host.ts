import type { UpdateKindT, WorkerActionT } from '../../schemas/common.js';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { SignalStore } from '../core/signals.js';
import type { StateStore } from '../core/state-store.js';
import type { HandlerOutput, ReturnerFn } from '../core/types.js';
import { errors } from '../errors.js';
import { buildStep, resolveStep } from '../hooks/resolve.js';
import type { Ports } from '../parts/context.js';
import type { ReactorHost } from '../reactor/host.js';
import type { SharedHookContext } from './service-parts.js';
import type { ServiceSet } from './service-set.js';

/** What the running agent lends its rules; a part of the agent, so the reactor never climbs back to the root. */
export interface ReactorHostDeps {
  bus: Bus;
  clock: Clock;
  log: Logger;
  signals: SignalStore;
  unit: { id: string; timezone?: string };
  services: ServiceSet;
  ports: Ports;
  /** What hooks share once the agent has started (its stores); undefined before. */
  hooks(): SharedHookContext | undefined;
  publish(topic: string, payload: string, qos: 0 | 1 | 2, retain: boolean): Promise<void>;
}

export class AgentReactorHost implements ReactorHost {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signals: SignalStore;
  readonly unit: { id: string; timezone?: string };
  /** Returners by name, each built once (a failed build is forgotten, so a reload tries again). */
  private readonly returners = new Map<string, Promise<ReturnerFn>>();

  constructor(private readonly deps: ReactorHostDeps) {
    ({ bus: this.bus, clock: this.clock, log: this.log, signals: this.signals, unit: this.unit } = deps);
  }

  get state(): StateStore {
    const hooks = this.deps.hooks();
    if (!hooks) throw errors.AGENT_NOT_STARTED();
    return hooks.state;
  }

  call(
    service: string,
    handler: string,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<HandlerOutput> {
    return this.deps.services.call(service, handler, args, timeoutMs);
  }

  worker(service: string, name: string, action: WorkerActionT): Promise<unknown> {
    return this.deps.services.worker(service, name, action);
  }

  /** A returner for the `return` action: built-in or a module function, resolved as in a pipeline. */
  returner(name: string): Promise<ReturnerFn> {
    let fn = this.returners.get(name);
    if (!fn) {
      fn = this.buildReturner(name);
      this.returners.set(name, fn);
      fn.catch(() => this.returners.delete(name));
    }
    return fn;
  }

  private async buildReturner(name: string): Promise<ReturnerFn> {
    const hooks = this.deps.hooks();
    if (!hooks) throw errors.AGENT_NOT_STARTED();
    const step = resolveStep(name, 'returner', { local: new Map(), handlers: [], driverHooks: [] });
    return buildStep(step, 'returner', { ...hooks, service: 'reactor', log: this.log }, {});
  }

  publish(topic: string, payload: string, qos: 0 | 1 | 2, retain: boolean): Promise<void> {
    return this.deps.publish(topic, payload, qos, retain);
  }

  startUpdate(kind: UpdateKindT): void {
    if (!this.deps.ports.updates) throw errors.UPDATE_OFF(kind);
    this.deps.ports.updates.startUpdate(kind);
  }
}
