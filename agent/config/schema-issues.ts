import type * as z from 'zod';
import { counted } from '../core/counted.js';
import { didYouMean } from '../core/suggest.js';
import type { KeyPath } from './errors.js';

/** A zod issue turned into words a fleet engineer can act on. */
export interface SchemaProblem {
  path: KeyPath;
  message: string;
  /** Point at the key itself rather than its value (unknown keys). */
  atKey: boolean;
}

type Issue = z.core.$ZodIssue & { input?: unknown };
type AnySchema = z.core.$ZodType;

const DEFAULT_MESSAGE = /^(Invalid|Too (small|big)|Unrecognized)/;
const WRAPPERS = new Set(['optional', 'default', 'nullable', 'readonly', 'catch', 'prefault', 'nonoptional']);

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Under a union told apart by a key, the branches the input's value of that key selects (all without one). */
function branchesFor(def: { options: AnySchema[]; discriminator?: string }, input: unknown): AnySchema[] {
  const key = def.discriminator;
  const value = key !== undefined && isMap(input) ? input[key] : undefined;
  if (value === undefined) return def.options;
  const chosen = def.options.filter((o) => {
    const shape = (o._zod.def as unknown as { shape?: Record<string, AnySchema> }).shape;
    const field = shape?.[key!];
    return field !== undefined && (field as z.ZodType).safeParse(value).success;
  });
  return chosen.length > 0 ? chosen : def.options;
}

/**
 * The object schemas that may stand at `path` (several under a union); `input`, the value the
 * schema was given, picks a discriminated union's branch, so a driver's settings suggest its own keys.
 */
function schemasAt(schema: AnySchema, path: KeyPath, input: unknown, depth = 0): AnySchema[] {
  if (depth > 200) return [];
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  const down = (s: AnySchema, p = path, i = input) => schemasAt(s, p, i, depth + 1);
  if (WRAPPERS.has(def.type)) return down(def.innerType as AnySchema);
  if (def.type === 'pipe') return down(def.in as AnySchema);
  if (def.type === 'lazy') return down((def.getter as () => AnySchema)());
  if (def.type === 'union')
    return branchesFor(def as unknown as { options: AnySchema[] }, input).flatMap((o) => down(o));
  if (path.length === 0) return [schema];
  const [head, ...rest] = path;
  const next = isMap(input) ? (input as Record<string | number, unknown>)[head!] : undefined;
  if (def.type === 'object') {
    const child = (def.shape as Record<string, AnySchema>)[String(head)];
    return child ? down(child, rest, next) : [];
  }
  if (def.type === 'array') return down(def.element as AnySchema, rest, next);
  if (def.type === 'record') return down(def.valueType as AnySchema, rest, next);
  return [];
}

function keysAt(root: AnySchema, path: KeyPath, input: unknown): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(root, path, input)) {
    const def = s._zod.def as unknown as { type: string; shape?: Record<string, unknown> };
    if (def.type === 'object' && def.shape) for (const k of Object.keys(def.shape)) keys.add(k);
  }
  return [...keys];
}

const MAX_SHOWN = 64;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  // Cut short: a message from the network could bring a megabyte, which its ack and log need not echo.
  if (typeof v === 'string') return `'${v.length > MAX_SHOWN ? `${v.slice(0, MAX_SHOWN)}…` : v}'`;
  return String(v);
}

const quoteList = (vs: readonly unknown[]) =>
  vs.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');

/** An unknown key, with the known key nearest it or, when none is near and they are few, all of them. */
function unknownKey(k: string, known: string[]): string {
  const near = didYouMean(k, known);
  const all = !near && known.length > 0 && known.length <= 16 ? `; expected one of ${quoteList(known)}` : '';
  return `unknown key '${k}'${near}${all}`;
}

function sizeMessage(issue: Issue & { origin?: string; minimum?: unknown; maximum?: unknown }): string {
  const small = issue.code === 'too_small';
  const bound = Number(small ? issue.minimum : issue.maximum);
  switch (issue.origin) {
    case 'string':
      return small && bound === 1
        ? 'cannot be empty'
        : `must be ${small ? 'at least' : 'at most'} ${bound} characters`;
    case 'array':
      return `needs ${small ? 'at least' : 'at most'} ${counted(bound, 'item')}`;
    default:
      return `must be ${small ? '>=' : '<='} ${bound}`;
  }
}

function deepest(issues: Issue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length + (i.code === 'unrecognized_keys' ? 0 : 0.5)));
}

/** Nested unions at the same path (a union of unions) count as one flat list of branches. */
function flatBranches(errors: Issue[][]): Issue[][] {
  return errors.flatMap((b) => {
    const only = b.length === 1 ? (b[0] as Issue & { errors?: Issue[][] }) : undefined;
    return only?.code === 'invalid_union' && only.path.length === 0 && only.errors?.length
      ? flatBranches(only.errors)
      : [b];
  });
}

function fromUnion(
  root: AnySchema,
  issue: Issue & { errors: Issue[][] },
  base: KeyPath,
  input: unknown,
): SchemaProblem[] {
  const branches = flatBranches(issue.errors);
  if (branches.length === 0)
    return [{ path: base, message: 'does not match any allowed form', atKey: false }];
  const unknownAtRoot = branches.map(
    (b) => new Set(b.flatMap((i) => (i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : []))),
  );
  const common = [...(unknownAtRoot[0] ?? [])].filter((k) => unknownAtRoot.every((s) => s.has(k)));
  if (common.length > 0) {
    const known = keysAt(root, base, input);
    return common.map((k) => ({ path: [...base, k], message: unknownKey(k, known), atKey: true }));
  }
  let best = branches[0]!;
  for (const b of branches.slice(1)) {
    const d = deepest(b) - deepest(best);
    if (d > 0 || (d === 0 && b.length < best.length)) best = b;
  }
  return best.flatMap((i) => translate(root, i, base, input));
}

/**
 * Translates one zod issue (paths relative to `base`) into problems with full key paths; `input` is
 * the value `root` was given, where the caller has it (for suggestions under a discriminated union).
 */
export function translate(
  root: AnySchema,
  issue: Issue,
  base: KeyPath = [],
  input?: unknown,
): SchemaProblem[] {
  const path = [...base, ...(issue.path as KeyPath)];
  const custom = !DEFAULT_MESSAGE.test(issue.message);
  const at = (message: string, atKey = false): SchemaProblem[] => [{ path, message, atKey }];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = keysAt(root, path, input);
      return issue.keys.map((k) => ({ path: [...path, k], message: unknownKey(k, known), atKey: true }));
    }
    case 'invalid_union': {
      const u = issue as Issue & {
        note?: string;
        discriminator?: string;
        options?: unknown[];
        errors: Issue[][];
      };
      if (u.note === 'No matching discriminator') {
        const input = (u.input as Record<string, unknown> | undefined)?.[u.discriminator ?? ''];
        const options = (u.options ?? []).map(String);
        if (input === undefined) return at(`missing required key '${u.discriminator}'`);
        return at(
          `unknown ${u.discriminator} ${describe(input)}${typeof input === 'string' ? didYouMean(input, options) : ''}; expected one of ${quoteList(options)}`,
        );
      }
      if (custom) return at(issue.message);
      return fromUnion(root, u, path, input);
    }
    case 'invalid_type':
      if (issue.input === undefined) return at(`missing required key '${String(path[path.length - 1])}'`);
      if (custom) return at(issue.message);
      return at(
        `expected ${issue.expected === 'object' ? 'a map' : issue.expected === 'array' ? 'a list' : issue.expected}, got ${describe(issue.input)}`,
      );
    case 'invalid_value': {
      if (issue.input === undefined) return at(`missing required key '${String(path[path.length - 1])}'`);
      if (custom) return at(issue.message);
      const hint = typeof issue.input === 'string' ? didYouMean(issue.input, issue.values.map(String)) : '';
      return at(
        issue.values.length === 1
          ? `expected ${quoteList(issue.values)}, got ${describe(issue.input)}`
          : `expected one of ${quoteList(issue.values)}, got ${describe(issue.input)}${hint}`,
      );
    }
    case 'too_small':
    case 'too_big':
      return at(custom ? issue.message : sizeMessage(issue));
    case 'invalid_format':
      return at(
        custom
          ? issue.message
          : `${describe(issue.input)} is not a valid ${issue.format === 'regex' ? 'value' : issue.format}`,
      );
    default:
      return at(issue.message);
  }
}

/**
 * A message's schema errors (a bundle's, a desired status's: no file, no positions) in the same
 * words as a config's: `key.path: reason`, joined; `whole` names the message itself. Parsed with
 * `reportInput`, as a config is: a wrong value is told from a missing one by its input.
 */
export function describeIssues(
  root: AnySchema,
  issues: readonly z.core.$ZodIssue[],
  base: KeyPath = [],
  whole = 'payload',
): string {
  return issues
    .flatMap((i) => translate(root, i, base))
    .map((p) => `${p.path.join('.') || whole}: ${p.message}`)
    .join('; ');
}
