import type * as z from 'zod';
import type { HookKind } from '../../schemas/services.js';
import type { HandlerError, HookContext, HookFns, Result } from '../core/types.js';

/** A hook as its file declares it: a name, its kind, the schema of its args and a factory. */
export interface HookSpec<K extends HookKind, A extends z.ZodType> {
  name: string;
  kind: K;
  args: A;
  create(args: z.output<A>, ctx: HookContext): HookFns[K];
}

/** A registered hook. `build` parses raw args (from config) with the hook's own schema, then creates it. */
export type HookDef = {
  [K in HookKind]: {
    name: string;
    kind: K;
    args: z.ZodType;
    build(rawArgs: unknown, ctx: HookContext): HookFns[K];
  };
}[HookKind];

export function defineHook<K extends HookKind, A extends z.ZodType>(spec: HookSpec<K, A>): HookDef {
  const def = {
    name: spec.name,
    kind: spec.kind,
    args: spec.args,
    build: (rawArgs: unknown, ctx: HookContext) => spec.create(spec.args.parse(rawArgs ?? {}), ctx),
  };
  // `def` is the `K` member of the union; TypeScript cannot correlate a generic K with a mapped union.
  return def as HookDef;
}

export const isError = (r: Result | HandlerError): r is HandlerError => 'error' in r;
export const numeric = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
