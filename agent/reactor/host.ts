import type { UpdateKindT, WorkerActionT } from '../../schemas/common.js';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { SignalStore } from '../core/signals.js';
import type { AgentState } from '../core/state-store.js';
import type { ReturnerFn } from '../core/types.js';

/** What the reactor needs from the agent; `pitcrew replay` provides a dry one. */
export interface ReactorHost {
  bus: Bus;
  clock: Clock;
  log: Logger;
  signals: SignalStore;
  state: AgentState;
  unit: { id: string; timezone?: string };
  call(service: string, handler: string, args: Record<string, unknown>, timeoutMs: number): Promise<unknown>;
  worker(service: string, name: string, action: WorkerActionT): Promise<unknown>;
  returner(name: string): Promise<ReturnerFn>;
  /** Queues a message for `<prefix>/<topic>` in the outbox; resolves once it is on disk. */
  publish(topic: string, payload: string, qos: 0 | 1 | 2, retain: boolean): Promise<void>;
  /** Starts a ready FOTA or SOTA update (DESIGN §7.3, the `trigger` schedule). */
  startUpdate(kind: UpdateKindT): void;
}
