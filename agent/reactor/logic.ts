import { ageOf } from '../core/clock.js';
import { ZonedTime } from '../core/cron.js';
import { inTimetable, inWeek, type TimetableEntryLike, weekOf } from '../core/timetable.js';
import { distanceOf, distanceOfNumbers, distanceOfPoints } from './distance.js';
import { errors } from './errors.js';
import { float, generateLogic, isOp, type LogicHelpers } from './logic-codegen.js';

/**
 * JsonLogic compiled once into closures (DESIGN §3.2): the semantics of json-logic-js 2.x, with no
 * `eval` or `new Function`, plus the extensions `since`, `distance` and `in_timetable`.
 */
export type Compiled = (data: unknown) => unknown;

export interface LogicOptions {
  /** When a signal (`signals.obd.speed` or `obd.speed`) last changed, ms epoch; for `since`. */
  changedAt?: (path: string) => number | undefined;
  /** The same for a path known when compiling: a reader bound to that signal. */
  changedAtOf?: (path: string) => () => number | undefined;
  /** Time now for `since` and `in_timetable` when the data has no `now`. */
  now?: () => number;
  timezone?: string;
  /** Where the `log` operator writes. */
  log?: (value: unknown) => void;
  /** false: closures only, even where code generation is allowed (the tests run both). */
  codegen?: boolean;
}

type Fn = (...args: unknown[]) => unknown;

/** Closures that always return the same value carry it, so operators can specialise on it. */
const CONSTANT = Symbol('constant');
type MaybeConstant = Compiled & { [CONSTANT]?: { value: unknown } };

function constant(value: unknown): Compiled {
  const f: MaybeConstant = () => value;
  f[CONSTANT] = { value };
  return f;
}

const constantOf = (f: Compiled) => (f as MaybeConstant)[CONSTANT];

export const truthy = (v: unknown): boolean => (Array.isArray(v) && v.length === 0 ? false : Boolean(v));

/** Paths read at run time, split once each (a few hundred at most in practice; bounded all the same). */
const splitPaths = new Map<string, string[]>();

function pathParts(a: unknown): string[] {
  const key = String(a);
  let parts = splitPaths.get(key);
  if (!parts) {
    if (splitPaths.size >= 1024) splitPaths.clear();
    parts = key.split('.');
    splitPaths.set(key, parts);
  }
  return parts;
}

/** json-logic-js's `var`: dotted path, numbers as strings, null/'' for the whole data. */
function lookup(data: unknown, a: unknown, b?: unknown): unknown {
  const notFound = b === undefined ? null : b;
  if (a === undefined || a === '' || a === null) return data;
  const parts = pathParts(a);
  let cur = data as Record<string, unknown> | null | undefined;
  for (const p of parts) {
    if (cur === null || cur === undefined) return notFound;
    cur = cur[p] as Record<string, unknown> | null | undefined;
    if (cur === undefined) return notFound;
  }
  return cur;
}

function missing(data: unknown, args: unknown[]): unknown[] {
  const keys = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  const out: unknown[] = [];
  for (const key of keys) {
    // Exactly as `{"var": key}` would read it, even for a key that is a list or itself logic.
    const v =
      typeof key === 'string' || typeof key === 'number'
        ? lookup(data, key, undefined)
        : compile({ var: key })(data);
    if (v === null || v === '') out.push(key);
  }
  return out;
}

function missingSome(data: unknown, need?: unknown, keys?: unknown): unknown[] {
  // As json-logic-js applies `{missing: keys}`: a list is the arguments (a list of lists, its first list).
  const absent = missing(data, Array.isArray(keys) ? keys : [keys]);
  return (keys as unknown[]).length - absent.length >= (need as number) ? [] : absent;
}

/** Operators that take their evaluated arguments (json-logic-js semantics, to the letter). */
const EAGER: Record<string, Fn> = {
  // biome-ignore lint/suspicious/noDoubleEquals: JsonLogic's == is JavaScript's loose equality
  '==': (a, b) => a == b,
  '===': (a, b) => a === b,
  // biome-ignore lint/suspicious/noDoubleEquals: JsonLogic's != is JavaScript's loose inequality
  '!=': (a, b) => a != b,
  '!==': (a, b) => a !== b,
  '>': (a, b) => (a as number) > (b as number),
  '>=': (a, b) => (a as number) >= (b as number),
  '<': (a, b, c) =>
    c === undefined
      ? (a as number) < (b as number)
      : (a as number) < (b as number) && (b as number) < (c as number),
  '<=': (a, b, c) =>
    c === undefined
      ? (a as number) <= (b as number)
      : (a as number) <= (b as number) && (b as number) <= (c as number),
  '!!': (a) => truthy(a),
  '!': (a) => !truthy(a),
  '%': (a, b) => (a as number) % (b as number),
  in: (a, b) => {
    const hay = b as { indexOf?: (x: unknown) => number } | null;
    if (!hay || typeof hay.indexOf === 'undefined') return false;
    return hay.indexOf(a) !== -1;
  },
  cat: (...args) => args.join(''),
  substr: (source, start, end) => {
    if ((end as number) < 0) {
      const temp = String(source).substr(start as number);
      return temp.substr(0, temp.length + (end as number));
    }
    return String(source).substr(start as number, end as number);
  },
  '+': (...args) => args.reduce((a, b) => Number.parseFloat(a as string) + Number.parseFloat(b as string), 0),
  '*': (...args) => args.reduce((a, b) => Number.parseFloat(a as string) * Number.parseFloat(b as string)),
  '-': (a, b) => (b === undefined ? -(a as number) : (a as number) - (b as number)),
  '/': (a, b) => (a as number) / (b as number),
  min: (...args) => Math.min(...(args as number[])),
  max: (...args) => Math.max(...(args as number[])),
  merge: (...args) => args.reduce((a: unknown[], b) => a.concat(b), []),
  distance: distanceOf,
};

type Compiler = (args: unknown[], opts: LogicOptions) => Compiled;

const arrayOp =
  (run: (items: unknown[], each: Compiled, data: unknown) => unknown, empty: unknown): Compiler =>
  (args, opts) => {
    const source = compile(args[0], opts);
    const each = compile(args[1], opts);
    return (data) => {
      const items = source(data);
      return Array.isArray(items) && items.length ? run(items, each, data) : empty;
    };
  };

/** Operators that decide what to evaluate themselves, and the extensions that need the agent. */
const SPECIAL: Record<string, Compiler> = {
  if: compileIf,
  '?:': compileIf,
  distance: compileDistance,
  and: (args, opts) => {
    const parts = args.map((a) => compile(a, opts));
    if (parts.length === 2) {
      const [a, b] = parts as [Compiled, Compiled];
      return (data) => {
        const x = a(data);
        return truthy(x) ? b(data) : x;
      };
    }
    return (data) => {
      let current: unknown;
      for (const p of parts) {
        current = p(data);
        if (!truthy(current)) return current;
      }
      return current;
    };
  },
  or: (args, opts) => {
    const parts = args.map((a) => compile(a, opts));
    if (parts.length === 2) {
      const [a, b] = parts as [Compiled, Compiled];
      return (data) => {
        const x = a(data);
        return truthy(x) ? x : b(data);
      };
    }
    return (data) => {
      let current: unknown;
      for (const p of parts) {
        current = p(data);
        if (truthy(current)) return current;
      }
      return current;
    };
  },
  filter: (args, opts) => {
    const source = compile(args[0], opts);
    const each = compile(args[1], opts);
    return (data) => {
      const items = source(data);
      return Array.isArray(items) ? items.filter((d) => truthy(each(d))) : [];
    };
  },
  map: (args, opts) => {
    const source = compile(args[0], opts);
    const each = compile(args[1], opts);
    return (data) => {
      const items = source(data);
      return Array.isArray(items) ? items.map((d) => each(d)) : [];
    };
  },
  reduce: (args, opts) => {
    const source = compile(args[0], opts);
    const each = compile(args[1], opts);
    const initial = args[2] !== undefined ? compile(args[2], opts) : () => null;
    return (data) => {
      const items = source(data);
      const init = initial(data);
      if (!Array.isArray(items)) return init;
      return items.reduce((accumulator, current) => each({ current, accumulator }), init);
    };
  },
  all: arrayOp((items, each) => items.every((d) => truthy(each(d))), false),
  none: arrayOp((items, each) => !items.some((d) => truthy(each(d))), true),
  some: arrayOp((items, each) => items.some((d) => truthy(each(d))), false),
  var: (args, opts) => {
    const [a, b] = args;
    if (
      (typeof a === 'string' || typeof a === 'number') &&
      !isOp(b) &&
      !Array.isArray(b) &&
      args.length <= 2
    ) {
      if (a === '') return (data) => data;
      const parts = String(a).split('.');
      const notFound = b === undefined ? null : b;
      type Obj = Record<string, unknown> | null | undefined;
      // The common case, a constant path: split once, walk without allocating.
      if (parts.length <= 3) {
        const [p0, p1, p2] = parts as [string, string?, string?];
        return (data) => {
          let cur = (data as Obj)?.[p0];
          if (cur === undefined) return notFound;
          if (p1 === undefined) return cur;
          if (cur === null) return notFound;
          cur = (cur as Obj)?.[p1];
          if (cur === undefined) return notFound;
          if (p2 === undefined) return cur;
          if (cur === null) return notFound;
          cur = (cur as Obj)?.[p2];
          return cur === undefined ? notFound : cur;
        };
      }
      return (data) => {
        let cur = data as Record<string, unknown> | null | undefined;
        for (let i = 0; i < parts.length; i++) {
          if (cur === null || cur === undefined) return notFound;
          cur = cur[parts[i]!] as Record<string, unknown> | null | undefined;
          if (cur === undefined) return notFound;
        }
        return cur;
      };
    }
    const parts = args.map((x) => compile(x, opts));
    return (data) => {
      const [va, vb] = parts.map((p) => p(data));
      return lookup(data, va, vb);
    };
  },
  missing: (args, opts) => {
    const parts = args.map((a) => compile(a, opts));
    return (data) =>
      missing(
        data,
        parts.map((p) => p(data)),
      );
  },
  // Like every operator of json-logic-js but the control forms, these evaluate all their arguments.
  missing_some: (args, opts) => {
    const parts = args.map((a) => compile(a, opts));
    return (data) => missingSome(data, ...parts.map((p) => p(data)));
  },
  log: (args, opts) => {
    const parts = args.map((a) => compile(a, opts));
    return (data) => {
      const [v] = parts.map((p) => p(data));
      opts.log?.(v);
      return v;
    };
  },
  since: (args, opts) => {
    const path = compile(args[0], opts);
    const known = constantOf(path);
    if (known && typeof known.value === 'string' && opts.changedAtOf) {
      const read = opts.changedAtOf(known.value);
      return (data) => {
        const at = read();
        return at === undefined ? null : ageOf(nowOf(data, opts), at) / 1000;
      };
    }
    return (data) => {
      const at = opts.changedAt?.(String(path(data)));
      if (at === undefined) return null;
      return ageOf(nowOf(data, opts), at) / 1000;
    };
  },
  in_timetable: (args, opts) => {
    const written = timetableArgs(args);
    const table = compile(written.table, opts);
    const at = written.at === undefined ? undefined : compile(written.at, opts);
    const zone = new ZonedTime(opts.timezone);
    // A table written into the condition (its entries in a list, or a constant): turned once into
    // minute ranges per weekday.
    const literal =
      Array.isArray(written.table) && written.table.every(isEntry) ? written.table : constantOf(table)?.value;
    if (Array.isArray(literal)) {
      const week = weekOf(literal as TimetableEntryLike[]);
      return (data) => inWeek(week, zone.parts(at ? Number(at(data)) : nowOf(data, opts)));
    }
    return (data) => {
      const entries = table(data);
      if (!Array.isArray(entries)) return false;
      return inTimetable(entries as TimetableEntryLike[], at ? Number(at(data)) : nowOf(data, opts), zone);
    };
  },
};

/** A timetable entry written in place: an object that is not an operation. */
const isEntry = (a: unknown): boolean => {
  if (a === null || typeof a !== 'object' || Array.isArray(a)) return false;
  const keys = Object.keys(a);
  return !(keys.length === 1 && OPERATORS.has(keys[0]!));
};

/**
 * `in_timetable`'s arguments: `[table, at?]`, or the entries written in place, as a timetable is
 * under `updates` (`in_timetable: [{day_of_week, time_slots}, …]`), then `at?`. JsonLogic hands a
 * one-entry list over as that entry, so both spellings must mean the same.
 */
export function timetableArgs(args: readonly unknown[]): { table: unknown; at?: unknown; inPlace: boolean } {
  let n = 0;
  while (n < args.length && isEntry(args[n])) n++;
  if (n === 0) return { table: args[0], at: args[1], inPlace: false };
  return { table: args.slice(0, n), at: args[n], inPlace: true };
}

/** `distance` over points given as `{lat, lon}` objects or four numbers, without building lists. */
function compileDistance(args: unknown[], opts: LogicOptions): Compiled {
  const parts = args.map((a) => compile(a, opts));
  if (parts.length === 4) {
    const [a, b, c, d] = parts as [Compiled, Compiled, Compiled, Compiled];
    return (data) => distanceOfNumbers(a(data), b(data), c(data), d(data));
  }
  if (parts.length === 2) {
    const [a, b] = parts as [Compiled, Compiled];
    return (data) => distanceOfPoints(a(data), b(data));
  }
  return (data) => distanceOf(...parts.map((f) => f(data)));
}

function nowOf(data: unknown, opts: LogicOptions): number {
  const n = (data as { now?: unknown } | null)?.now;
  return typeof n === 'number' ? n : (opts.now ?? Date.now)();
}

function compileIf(args: unknown[], opts: LogicOptions): Compiled {
  const parts = args.map((a) => compile(a, opts));
  if (parts.length === 3) {
    const [test, then, otherwise] = parts as [Compiled, Compiled, Compiled];
    return (data) => (truthy(test(data)) ? then(data) : otherwise(data));
  }
  return (data) => {
    let i = 0;
    for (; i < parts.length - 1; i += 2) if (truthy(parts[i]!(data))) return parts[i + 1]!(data);
    return parts.length === i + 1 ? parts[i]!(data) : null;
  };
}

/** Every operator name the compiler knows. */
export const OPERATORS: ReadonlySet<string> = new Set([...Object.keys(EAGER), ...Object.keys(SPECIAL)]);

/** Compiles a JsonLogic expression; throws PITCREW_LOGIC_INVALID for an unknown operator. */
export function compile(logic: unknown, opts: LogicOptions = {}): Compiled {
  if (Array.isArray(logic)) {
    const items = logic.map((l) => compile(l, opts));
    return (data) => items.map((f) => f(data));
  }
  if (!isOp(logic)) return constant(logic);
  const op = Object.keys(logic)[0]!;
  const raw = logic[op];
  const args = Array.isArray(raw) ? raw : [raw];
  if (Object.hasOwn(SPECIAL, op)) return SPECIAL[op]!(args, opts);
  if (!Object.hasOwn(EAGER, op)) throw errors.LOGIC_INVALID(`Unrecognized operation ${op}`);
  const fn = EAGER[op]!;
  const parts = args.map((a) => compile(a, opts));
  const fast = specialise(op, parts);
  if (fast) return fast;
  switch (parts.length) {
    case 0:
      return () => fn();
    case 1: {
      const [a] = parts as [Compiled];
      return (data) => fn(a(data));
    }
    case 2: {
      const [a, b] = parts as [Compiled, Compiled];
      return (data) => fn(a(data), b(data));
    }
    case 3: {
      const [a, b, c] = parts as [Compiled, Compiled, Compiled];
      if (op === '<') return (d) => between(a(d) as Num, b(d) as Num, c(d) as Num, false);
      if (op === '<=') return (d) => between(a(d) as Num, b(d) as Num, c(d) as Num, true);
      return (data) => fn(a(data), b(data), c(data));
    }
    default:
      return (data) => fn(...parts.map((p) => p(data)));
  }
}

/** The three-argument forms of `<` and `<=`; every argument is evaluated, as json-logic-js does. */
function between(a: Num, b: Num, c: Num | undefined, inclusive: boolean): boolean {
  if (c === undefined) return inclusive ? a <= b : a < b;
  return inclusive ? a <= b && b <= c : a < b && b < c;
}

type Num = number;

/**
 * Hand-written closures for the hottest operators (comparisons, `!`, `!!`, `in` over a constant
 * list): the same results as EAGER, one call less per node, constants read once.
 */
function specialise(op: string, parts: Compiled[]): Compiled | undefined {
  if (parts.length === 1) {
    const [a] = parts as [Compiled];
    if (op === '!') return (d) => !truthy(a(d));
    if (op === '!!') return (d) => truthy(a(d));
    return undefined;
  }
  if (parts.length !== 2) return undefined;
  const [a, b] = parts as [Compiled, Compiled];
  const k = constantOf(b);
  if (k !== undefined) {
    const c = k.value as Num;
    switch (op) {
      case '>':
        return (d) => (a(d) as Num) > c;
      case '>=':
        return (d) => (a(d) as Num) >= c;
      case '<':
        return (d) => (a(d) as Num) < c;
      case '<=':
        return (d) => (a(d) as Num) <= c;
      case '===':
        return (d) => a(d) === c;
      case '!==':
        return (d) => a(d) !== c;
      case '==':
        // biome-ignore lint/suspicious/noDoubleEquals: JsonLogic's == is JavaScript's loose equality
        return (d) => a(d) == c;
      case 'in':
        if (Array.isArray(c) && !c.some((x) => Number.isNaN(x))) {
          // indexOf's strict equality is a set lookup when the list holds no NaN.
          const set = new Set<unknown>(c);
          return (d) => set.has(a(d));
        }
        return undefined;
    }
  }
  switch (op) {
    case '>':
      return (d) => (a(d) as Num) > (b(d) as Num);
    case '>=':
      return (d) => (a(d) as Num) >= (b(d) as Num);
    case '<':
      return (d) => (a(d) as Num) < (b(d) as Num);
    case '<=':
      return (d) => (a(d) as Num) <= (b(d) as Num);
    case '===':
      return (d) => a(d) === b(d);
    case '==':
      // biome-ignore lint/suspicious/noDoubleEquals: JsonLogic's == is JavaScript's loose equality
      return (d) => a(d) == b(d);
    case '+':
      return (d) => 0 + float(a(d)) + float(b(d));
    case '*':
      return (d) => float(a(d)) * float(b(d));
    case '-':
      return (d) => {
        const x = a(d) as Num;
        const y = b(d) as Num | undefined;
        return y === undefined ? -x : x - y;
      };
    case '/':
      return (d) => (a(d) as Num) / (b(d) as Num);
    default:
      return undefined;
  }
}

/** What generated code calls: the compiler for what it leaves to closures, and the operators. */
const HELPERS: LogicHelpers = {
  compile,
  // Those the compiler makes better than their plain function (distance) are left to it.
  eager: Object.fromEntries(Object.entries(EAGER).filter(([op]) => !Object.hasOwn(SPECIAL, op))),
  withData: {
    var: lookup,
    missing: (data, ...args) => missing(data, args),
    missing_some: missingSome,
  },
};

/**
 * The public form (DESIGN §11): generated code where this process allows it and the expression has
 * something to gain, else the closures.
 */
export function compileLogic(rule: unknown, opts: LogicOptions = {}): Compiled {
  return (opts.codegen !== false && generateLogic(rule, opts, HELPERS)) || compile(rule, opts);
}

/** A condition: JsonLogic's truthiness of the rule's value, generated into the one function where it can be. */
export function compileTest(rule: unknown, opts: LogicOptions = {}): (data: unknown) => boolean {
  const generated = opts.codegen !== false && generateLogic(rule, opts, HELPERS, true);
  if (generated) return generated as (data: unknown) => boolean;
  const f = compile(rule, opts);
  return (data) => truthy(f(data));
}
