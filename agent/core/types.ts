import type { Logger } from 'pino';
import type { HookKind } from '../../schemas/services.js';
import type { Bus } from './bus.js';
import type { Clock } from './clock.js';
import type { EventSink } from './inlet.js';
import type { SignalStore } from './signals.js';
import type { StateStore } from './state-store.js';

export type { HookKind };

/** A reading: `{type, value, unit?, ts}` (DESIGN §12); enrichers may add fields. */
export interface Result {
  type: string;
  value: unknown;
  unit?: string;
  ts: number;
  [field: string]: unknown;
}

/** What a trigger sees when the handler failed. */
export interface HandlerError {
  error: string;
  ts: number;
}

/** Records bound for the cloud; a push resolves once the record is accepted (on disk). */
export interface RecordSink {
  push(service: string, result: Result): void | Promise<void>;
}

/** A JsonLogic condition compiled with the agent's options (signals for `since`, the unit's time zone), truthiness applied. */
export type Condition = (data: unknown) => boolean;

/** What a hook may use; one per service. */
export interface HookContext {
  service: string;
  bus: Bus;
  clock: Clock;
  signals: SignalStore;
  state: StateStore;
  log: Logger;
  /** Where relative paths in hook args resolve: the unit's data directory. */
  dataDir: string;
  unit: { id: string; timezone?: string };
  records: RecordSink;
  /** Compiles a JsonLogic condition exactly as rules compile theirs. */
  condition(expr: unknown): Condition;
}

export type HandlerOutput = Result | Result[] | undefined | void;
export type HandlerFn = (args: Record<string, unknown>) => Promise<HandlerOutput>;
export type ConverterFn = (
  r: Result,
) => Result | Result[] | undefined | Promise<Result | Result[] | undefined>;
export type TriggerFn = (r: Result | HandlerError) => void | Promise<void>;
export type FilterFn = (r: Result) => boolean | Promise<boolean>;
export type EnricherFn = (r: Result) => Result | Promise<Result>;
export type ReturnerFn = (r: Result) => void | Promise<void>;

export interface HookFns {
  handler: HandlerFn;
  converter: ConverterFn;
  trigger: TriggerFn;
  filter: FilterFn;
  enricher: EnricherFn;
  returner: ReturnerFn;
}

/** What a driver gets from the service that runs it. */
export interface DriverContext {
  service: string;
  /** Where its events go: bounded, so a flooding driver cannot freeze the agent. */
  bus: EventSink;
  clock: Clock;
  log: Logger;
  /** Directory of the config file: relative paths in settings resolve against it. */
  baseDir: string;
  /** The unit's data directory, for what a driver keeps (a module's installed dependencies). */
  dataDir: string;
  /** Reports a failure after start (a pulled cable, a crashed module): the supervisor restarts the service. */
  fail(reason: Error): void;
  /** Writes a reading straight into the signal store as `signals.<service>.<type>` (a bus's decoded frames). */
  signal(type: string, value: unknown, ts: number): void;
  /** Another signal's value now (`signals.obd.engine_running`), for a driver that depends on the vehicle's state. */
  read(path: string): unknown;
}

/** A running driver: its handlers and lifecycle. */
export interface DriverInstance {
  handlers: Record<string, HandlerFn>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What the hardware is doing (port state, counters), shown under the service in `pitcrew status`. */
  status?(): Record<string, unknown>;
}

/** A feature wired to the agent's bus (control socket, reactor, cloud link …): started after services, stopped before. */
export interface Extension {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
