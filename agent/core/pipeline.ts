import type {
  ConverterFn,
  EnricherFn,
  FilterFn,
  HandlerFn,
  Result,
  ReturnerFn,
  TriggerFn,
} from '../hooks/types.js';

/** One message, its names resolved: handler → converter → trigger → filter → enricher → returner. */
export interface Pipeline {
  handlerName: string;
  handler: HandlerFn;
  args: Record<string, unknown>;
  converters: ConverterFn[];
  triggers: TriggerFn[];
  filters: FilterFn[];
  enrichers: EnricherFn[];
  returners: ReturnerFn[];
}

const asList = (v: Result | Result[] | undefined | void): Result[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Runs one message (DESIGN §3.1). Triggers see every result, and a handler error as `{error}`;
 * they never stop the flow. A failing returner does not keep the others from running; the
 * message then fails with the first error. Returns what reached the returners.
 */
export async function runPipeline(p: Pipeline, now: () => number): Promise<Result[]> {
  let results: Result[];
  try {
    results = asList(await p.handler(p.args));
  } catch (e) {
    const err = { error: errorText(e), ts: now() };
    for (const t of p.triggers) t(err);
    throw e;
  }
  for (const c of p.converters) results = results.flatMap((r) => asList(c(r)));
  for (const t of p.triggers) for (const r of results) t(r);
  results = results.filter((r) => p.filters.every((f) => f(r)));
  for (const e of p.enrichers) results = results.map(e);
  let failure: unknown;
  for (const r of results) {
    for (const ret of p.returners) {
      try {
        await ret(r);
      } catch (e) {
        failure ??= e;
      }
    }
  }
  if (failure !== undefined) throw failure;
  return results;
}
