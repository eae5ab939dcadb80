import type { Bus, HeldEvent } from './bus.js';
import type { Clock } from './clock.js';
import { within } from './deadline.js';
import { errors, errorText } from './errors.js';
import type {
  ConverterFn,
  EnricherFn,
  FilterFn,
  HandlerFn,
  HandlerOutput,
  Result,
  ReturnerFn,
  TriggerFn,
} from './types.js';

/** One message, its names resolved: handler → converter → trigger → filter → enricher → returner. */
export interface Pipeline {
  handlerName: string;
  handler: HandlerFn;
  args: Record<string, unknown>;
  /** ms the whole message may take before it fails (a handler or hook that never settles). */
  timeout: number;
  converters: ConverterFn[];
  triggers: TriggerFn[];
  filters: FilterFn[];
  enrichers: EnricherFn[];
  returners: ReturnerFn[];
}

/** A result `type` becomes a signal path segment and an event tag segment: a name, nothing else. */
const TYPE_RE = /^[A-Za-z][A-Za-z0-9_]*$/;

/** A handler's output as a list of checked results; a bad one fails the message, naming the handler. */
function results(v: HandlerOutput, handler: string, now: number): Result[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const r of list) {
    const type = (r as Partial<Result> | null)?.type;
    if (r === null || typeof r !== 'object' || typeof type !== 'string' || !TYPE_RE.test(type)) {
      throw errors.RESULT_INVALID(handler, JSON.stringify(type) ?? String(type));
    }
    if (typeof r.ts !== 'number') r.ts = now;
  }
  return list;
}

/**
 * Runs one message (DESIGN §3.1). Every step may be async and is awaited. Triggers see every
 * result, and a handler error as `{error}`; they never stop the flow, and the events they emit are
 * held until the returners ran, so a rule fired by a trigger reads the signal store as of the
 * reading that fired it. A failing returner does not keep the others from running; the message
 * then fails with the first error. The whole message fails after `timeout`. Returns what reached
 * the returners.
 */
export async function runPipeline(
  p: Pipeline,
  clock: Clock,
  bus?: Bus,
  /** Rejects when the message is abandoned (its worker killed): nothing more of it is awaited. */
  abandon?: Promise<never>,
): Promise<Result[]> {
  const state = { expired: false };
  const held: HeldEvent[] = [];
  const work = run(p, clock, bus, held, state);
  try {
    return await within(clock, p.timeout, abandon ? Promise.race([work, abandon]) : work, () => {
      state.expired = true;
      return errors.MESSAGE_TIMEOUT(p.handlerName, p.timeout);
    });
  } finally {
    if (bus) for (const e of held) bus.emit(e.tag, e.data, e.source);
  }
}

async function passesAll(filters: FilterFn[], r: Result): Promise<boolean> {
  for (const f of filters) if (!(await f(r))) return false;
  return true;
}

async function run(
  p: Pipeline,
  clock: Clock,
  bus: Bus | undefined,
  held: HeldEvent[],
  state: { expired: boolean },
): Promise<Result[]> {
  const trigger = async (t: TriggerFn, r: Parameters<TriggerFn>[0]) => {
    try {
      if (bus) await bus.hold(held, () => t(r));
      else await t(r);
    } catch {
      // A trigger only watches: its failure never stops the message.
    }
  };
  let list: Result[];
  try {
    list = results(await p.handler(p.args), p.handlerName, clock.now());
  } catch (e) {
    const err = { error: errorText(e), ts: clock.now() };
    for (const t of p.triggers) await trigger(t, err);
    throw e;
  }
  for (const c of p.converters) {
    const next: Result[] = [];
    for (const r of list) next.push(...results(await c(r), p.handlerName, clock.now()));
    list = next;
  }
  for (const t of p.triggers) for (const r of list) await trigger(t, r);
  const passed: Result[] = [];
  for (const r of list) if (await passesAll(p.filters, r)) passed.push(r);
  list = passed;
  for (const e of p.enrichers) {
    const next: Result[] = [];
    for (const r of list) next.push(await e(r));
    list = next;
  }
  let failure: unknown;
  for (const r of list) {
    for (const ret of p.returners) {
      // A message past its deadline has already failed: its results go nowhere.
      if (state.expired) return list;
      try {
        await ret(r);
      } catch (e) {
        failure ??= e;
      }
    }
  }
  if (failure !== undefined) throw failure;
  return list;
}
