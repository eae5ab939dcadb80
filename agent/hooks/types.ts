import type { Logger } from 'pino';
import type { z } from 'zod';
import type { HookKind } from '../../schemas/services.js';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { SignalStore } from '../core/signals.js';
import type { StateStore } from '../core/state-store.js';

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

/** Records for the cloud; a local queue until the cloud link exists. */
export interface RecordSink {
  push(service: string, result: Result): void;
}

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
  unit: { id: string };
  records: RecordSink;
}

export type HandlerFn = (args: Record<string, unknown>) => Promise<Result | Result[] | undefined | void>;
export type ConverterFn = (r: Result) => Result | Result[] | undefined;
export type TriggerFn = (r: Result | HandlerError) => void;
export type FilterFn = (r: Result) => boolean;
export type EnricherFn = (r: Result) => Result;
export type ReturnerFn = (r: Result) => void | Promise<void>;

export interface HookFns {
  handler: HandlerFn;
  converter: ConverterFn;
  trigger: TriggerFn;
  filter: FilterFn;
  enricher: EnricherFn;
  returner: ReturnerFn;
}

/** A built-in or driver hook: a name, its kind, the schema of its args and a factory. */
export interface HookDef<K extends HookKind = HookKind, A extends z.ZodType = z.ZodType> {
  name: string;
  kind: K;
  args: A;
  create(args: z.infer<A>, ctx: HookContext): HookFns[K];
}

export function defineHook<K extends HookKind, A extends z.ZodType>(def: HookDef<K, A>): HookDef<K, A> {
  return def;
}

export const isError = (r: Result | HandlerError): r is HandlerError => 'error' in r;
export const numeric = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
