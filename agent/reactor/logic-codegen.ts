/**
 * JsonLogic as generated JavaScript, for the hot conditions: comparisons, `and`/`or`/`!`/`if`,
 * constant `var` paths, `in` over a constant list, arithmetic. No value from a rule is ever written
 * into the source: constants, path segments, sets and the closures of the operators this does not
 * generate are passed in as bound arguments (`k3`, `f0`) and the source names only those, the
 * way ajv does. The source depends on the expression's shape alone. Where code generation is
 * disabled (`--disallow-code-generation-from-strings`), or for a shape it has nothing to gain on,
 * the closure compiler runs instead.
 */
import { startupSnapshot } from 'node:v8';
import { deepFreeze } from '../core/freeze.js';
import { distanceOfNumbers, distanceOfPoints } from './distance.js';
import type { Compiled, LogicOptions } from './logic.js';

type Fn = (...args: unknown[]) => unknown;

/**
 * What generated code calls: the closure compiler for what it leaves to closures, the operators on
 * their evaluated arguments, and those that read the data as well (`missing`).
 */
export interface LogicHelpers {
  compile: (logic: unknown, opts: LogicOptions) => Compiled;
  eager: Readonly<Record<string, Fn>>;
  withData: Readonly<Record<string, (data: unknown, ...args: unknown[]) => unknown>>;
}

/**
 * Whether this process may make functions from text; worked out once per process. Not kept while
 * the startup snapshot is built, where it is refused: a process started from the snapshot asks again.
 */
let allowed: boolean | undefined;
export function codegenAllowed(): boolean {
  if (allowed !== undefined) return allowed;
  let yes: boolean;
  try {
    yes = new Function('return true')() === true;
  } catch {
    yes = false;
  }
  if (!startupSnapshot.isBuildingSnapshot()) allowed = yes;
  return yes;
}

/**
 * Whether the arguments from `from` on are plain values. An operator that ignores them (`missing`
 * after a list of keys, `missing_some` after its two) still has json-logic-js evaluate them, and
 * an operation among them may throw: then the operator is called on all its evaluated arguments.
 */
const inert = (args: unknown[], from: number) =>
  args.slice(from).every((a) => a === null || typeof a !== 'object');

/** Operators written as JavaScript's own, on two arguments (`<`, `<=` also on three). */
const COMPARISONS = new Set(['==', '===', '!=', '!==', '>', '>=', '<', '<=']);
/** Arithmetic JsonLogic does without parseFloat (`+` and `*` apply it). */
const PLAIN_ARITHMETIC = new Set(['-', '/', '%']);

/**
 * `parseFloat` as JsonLogic's arithmetic applies it, without a number's round trip through a
 * string (the same value for every number but -0, which parseFloat reads as 0 and so does this).
 */
export const float = (x: unknown): number =>
  typeof x === 'number' && x !== 0 ? x : Number.parseFloat(x as string);

/** An operation: an object of one key (anything else is a value). */
export const isOp = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1;

/** JsonLogic's truthiness of `js` (an empty list is false), its value kept in `t`. */
const truthyInto = (t: string, js: string) => `(Array.isArray(${t} = ${js}) ? ${t}.length !== 0 : !!${t})`;

/** A generated expression, and whether it is always a boolean (its truthiness is itself). */
interface Expr {
  js: string;
  bool?: boolean;
}

/** What the generators of one expression share: its bound values, the functions for its list operators. */
interface Shared {
  bound: unknown[];
  /** Function declarations beside the generated one (`e0` …): the loops of `all`, `map` … */
  inners: string[];
  /** Nodes generated as code, against those handed to closures. */
  generated: number;
}

/** Each function's own temporaries: the generated one's, and each list operator's loop body's. */
class Generator {
  private temps = 0;

  constructor(
    private readonly opts: LogicOptions,
    private readonly helpers: LogicHelpers,
    readonly shared: Shared = { bound: [], inners: [], generated: 0 },
  ) {}

  /** A bound value's name in the source. */
  private bind(value: unknown): string {
    this.shared.bound.push(value);
    return `b${this.shared.bound.length - 1}`;
  }

  /** The declaration of this function's temporaries, if it has any. */
  private lets(): string {
    return this.temps ? `let ${Array.from({ length: this.temps }, (_, i) => `t${i}`).join(', ')};` : '';
  }

  private temp(): string {
    return `t${this.temps++}`;
  }

  /** JsonLogic's truthiness of `e` (an empty list is false), evaluating it once. */
  private truthy(e: Expr): string {
    return e.bool ? e.js : truthyInto(this.temp(), e.js);
  }

  node(logic: unknown): Expr {
    const folded = this.fold(logic);
    if (folded) return folded;
    if (Array.isArray(logic)) return { js: `[${logic.map((l) => this.node(l).js).join(', ')}]` };
    if (!isOp(logic)) return { js: this.bind(logic) };
    const op = Object.keys(logic)[0]!;
    const raw = logic[op];
    const args = Array.isArray(raw) ? raw : [raw];
    const made = this.op(op, args);
    if (made !== undefined) {
      this.shared.generated++;
      return made;
    }
    // Anything else runs as the closure compiler made it, with the data.
    return { js: `${this.bind(this.helpers.compile(logic, this.opts))}(d)` };
  }

  /**
   * An operation (or a list) of constants alone, worked out once by the closures. A list or map it
   * comes to is frozen: every call hands out that one value, which no caller may change.
   */
  private fold(logic: unknown): Expr | undefined {
    if (!(isOp(logic) || Array.isArray(logic)) || !constantLogic(logic)) return undefined;
    let value: unknown;
    try {
      value = this.helpers.compile(logic, this.opts)(null);
    } catch {
      return undefined;
    }
    this.shared.generated++;
    return { js: this.bind(deepFreeze(value)), bool: typeof value === 'boolean' };
  }

  private op(op: string, args: unknown[]): Expr | undefined {
    const known = op === 'var' ? this.variable(args) : undefined;
    if (known) return known;
    if (OVER_ITEMS.has(op)) return this.overItems(op, args);
    if (COMPARISONS.has(op) && args.length === 2) {
      const [a, b] = args.map((x) => this.node(x));
      return { js: `(${a!.js} ${op} ${b!.js})`, bool: true };
    }
    if ((op === '<' || op === '<=') && args.length === 3) {
      // Every argument is evaluated, as json-logic-js does; a third that comes out undefined
      // (`{or: []}`) leaves a plain comparison of the first two, as there.
      const [a, b, c] = args.map((x) => this.node(x));
      const [x, y, z] = [this.temp(), this.temp(), this.temp()];
      return {
        js: `(${x} = ${a!.js}, ${y} = ${b!.js}, ${z} = ${c!.js}, ${x} ${op} ${y} && (${z} === undefined || ${y} ${op} ${z}))`,
        bool: true,
      };
    }
    if ((op === '!' || op === '!!') && args.length === 1) {
      const t = this.truthy(this.node(args[0]));
      return { js: op === '!' ? `!${t}` : `(${t})`, bool: true };
    }
    if ((op === 'and' || op === 'or') && args.length > 0) {
      // From the last: each one before decides whether the rest runs, and is the result if not.
      const parts = args.map((a) => this.node(a));
      let acc = parts.at(-1)!;
      for (let i = parts.length - 2; i >= 0; i--) {
        const p = parts[i]!;
        if (p.bool) acc = { js: `(${p.js} ${op === 'and' ? '&&' : '||'} ${acc.js})`, bool: acc.bool };
        else {
          const t = this.temp();
          const test = truthyInto(t, p.js);
          acc = { js: op === 'and' ? `(${test} ? ${acc.js} : ${t})` : `(${test} ? ${t} : ${acc.js})` };
        }
      }
      return acc;
    }
    if ((op === 'if' || op === '?:') && args.length >= 2) {
      // test, then, test, then, …, else: without an else, null.
      const parts = args.map((x) => this.node(x));
      let acc: Expr = parts.length % 2 ? parts.at(-1)! : { js: 'null' };
      for (let i = parts.length - (parts.length % 2 ? 3 : 2); i >= 0; i -= 2)
        acc = {
          js: `(${this.truthy(parts[i]!)} ? ${parts[i + 1]!.js} : ${acc.js})`,
          bool: parts[i + 1]!.bool && acc.bool,
        };
      return acc;
    }
    if ((op === '+' || op === '*') && args.length === 2) {
      // parseFloat as JsonLogic's arithmetic applies it.
      const f = this.bind(float);
      const [a, b] = args.map((x) => this.node(x));
      return {
        js: op === '+' ? `(0 + ${f}(${a!.js}) + ${f}(${b!.js}))` : `(${f}(${a!.js}) * ${f}(${b!.js}))`,
      };
    }
    if (
      op === 'in' &&
      args.length === 2 &&
      Array.isArray(args[1]) &&
      !args[1].some((x) => isOp(x) || Array.isArray(x) || Number.isNaN(x))
    ) {
      // indexOf's strict equality is a set lookup when the list holds no NaN.
      return { js: `${this.bind(new Set(args[1]))}.has(${this.node(args[0]).js})`, bool: true };
    }
    if (PLAIN_ARITHMETIC.has(op) && args.length === 2) {
      const [a, b] = args.map((x) => this.node(x));
      if (op !== '-') return { js: `(${a!.js} ${op} ${b!.js})` };
      // A second argument that comes out undefined (`{and: []}`) makes it a negation, as json-logic-js has it.
      const [x, y] = [this.temp(), this.temp()];
      return { js: `(${x} = ${a!.js}, (${y} = ${b!.js}) === undefined ? -${x} : ${x} - ${y})` };
    }
    if (op === 'missing') return this.missing(args);
    if (op === 'missing_some' && typeof args[0] === 'number' && Array.isArray(args[1]) && inert(args, 2)) {
      const absent = this.missing(args[1]);
      if (absent) {
        const t = this.temp();
        const enough = `${this.bind(args[1].length)} - ${t}.length >= ${this.bind(args[0])}`;
        return { js: `((${t} = ${absent.js}), ${enough} ? [] : ${t})` };
      }
    }
    // Any other operator on its evaluated arguments: the operator's own function, called directly.
    const call = (fn: unknown, first: string[]) =>
      `${this.bind(fn)}(${[...first, ...args.map((x) => this.node(x).js)].join(', ')})`;
    // Two points or four numbers, as the closures take them: no lists built.
    if (op === 'distance' && (args.length === 2 || args.length === 4))
      return { js: call(args.length === 2 ? distanceOfPoints : distanceOfNumbers, []) };
    if (Object.hasOwn(this.helpers.withData, op)) return { js: call(this.helpers.withData[op], ['d']) };
    if (Object.hasOwn(this.helpers.eager, op)) return { js: call(this.helpers.eager[op], []) };
    return undefined;
  }

  /**
   * `missing` over constant keys (the arguments, or a first argument that is a list): each key read
   * as `var` reads it, the absent (null or '') ones listed in order.
   */
  private missing(args: unknown[]): Expr | undefined {
    if (Array.isArray(args[0]) && !inert(args, 1)) return undefined;
    const keys = Array.isArray(args[0]) ? args[0] : args;
    if (!keys.every((k) => typeof k === 'string' || typeof k === 'number')) return undefined;
    const [out, v] = [this.temp(), this.temp()];
    const checks = keys.map(
      (k) =>
        `((${v} = ${this.variable([k])!.js}) === null || ${v} === '' ? ${out}.push(${this.bind(k)}) : 0)`,
    );
    return { js: `(${out} = [], ${[...checks, out].join(', ')})` };
  }

  /**
   * `var` with a constant path, each segment a bound name: optional chaining is json-logic-js's
   * walk (a null or missing step is not found), and only a missing last value takes the default.
   */
  private variable(args: unknown[]): Expr | undefined {
    const [a, b] = args;
    // No key, null or '': the data itself, as json-logic-js has it.
    if (a === '' || a === null || a === undefined) return args.length <= 2 ? { js: 'd' } : undefined;
    if (!(typeof a === 'string' || typeof a === 'number') || isOp(b) || Array.isArray(b) || args.length > 2)
      return undefined;
    const walk = `d${String(a)
      .split('.')
      .map((p) => `?.[${this.bind(p)}]`)
      .join('')}`;
    if (b === undefined || b === null) return { js: `(${walk} ?? null)` };
    const t = this.temp();
    return { js: `((${t} = ${walk}) === undefined ? ${this.bind(b)} : ${t})` };
  }

  /**
   * A list operator (`all`, `none`, `some`, `filter`, `map`, `reduce`) as a loop of its own, its
   * body generated with each item as the data (`reduce`: `{current, accumulator}`), as json-logic-js
   * applies them.
   */
  private overItems(op: string, args: unknown[]): Expr {
    const items = this.node(args[0]).js;
    const inner = new Generator(this.opts, this.helpers, this.shared);
    const body = inner.node(args[1]);
    const test = op === 'map' || op === 'reduce' ? '' : inner.truthy(body);
    const lets = inner.lets();
    const name = `e${this.shared.inners.length}`;
    const loop = (each: string) =>
      `for (let i = 0; i < items.length; i++) { const d = items[i]; ${lets} ${each} }`;
    const fns: Record<string, string> = {
      all: `(items) { if (!Array.isArray(items) || items.length === 0) return false; ${loop(`if (!${test}) return false;`)} return true; }`,
      none: `(items) { if (!Array.isArray(items)) return true; ${loop(`if (${test}) return false;`)} return true; }`,
      some: `(items) { if (!Array.isArray(items)) return false; ${loop(`if (${test}) return true;`)} return false; }`,
      filter: `(items) { const out = []; if (!Array.isArray(items)) return out; ${loop(`if (${test}) out.push(d);`)} return out; }`,
      map: `(items) { const out = []; if (!Array.isArray(items)) return out; ${loop(`out.push(${body.js});`)} return out; }`,
      reduce: `(items, acc) { if (!Array.isArray(items)) return acc; for (let i = 0; i < items.length; i++) { const d = { current: items[i], accumulator: acc }; ${lets} acc = ${body.js}; } return acc; }`,
    };
    this.shared.inners.push(`function ${name}${fns[op]}`);
    if (op !== 'reduce')
      return { js: `${name}(${items})`, bool: op === 'all' || op === 'none' || op === 'some' };
    // The initial value, evaluated after the list as the closures do; none is null.
    return { js: `${name}(${items}, ${args[2] === undefined ? 'null' : this.node(args[2]).js})` };
  }

  /** The whole source; `test`: the function returns the result's truthiness, as a condition does. */
  source(result: Expr, test: boolean): string {
    const value = test ? this.truthy(result) : result.js;
    // The bound values, each read once into a constant of its own.
    const names = this.shared.bound.map((_, i) => `b${i} = b[${i}]`).join(', ');
    return `${names ? `const ${names};\n` : ''}${this.shared.inners.join('\n')}\nreturn function generated(d) {\n${this.lets()}\nreturn ${value};\n};`;
  }
}

/** Operations whose value depends on their arguments alone: no data, no time, no side effect. */
const PURE = new Set([
  ...COMPARISONS,
  ...PLAIN_ARITHMETIC,
  '+',
  '*',
  '!',
  '!!',
  'and',
  'or',
  'if',
  '?:',
  'in',
  'cat',
  'substr',
  'min',
  'max',
  'merge',
  'distance',
]);
/** Over a list: pure when the list is constant and the body reads nothing but the items. */
const OVER_ITEMS = new Set(['map', 'filter', 'reduce', 'all', 'none', 'some']);
const IMPURE_IN_BODY = new Set(['log', 'since', 'in_timetable']);

function constantLogic(v: unknown): boolean {
  if (Array.isArray(v)) return v.every(constantLogic);
  if (!isOp(v)) return true;
  const op = Object.keys(v)[0]!;
  const raw = v[op];
  const args = Array.isArray(raw) ? raw : [raw];
  if (PURE.has(op)) return args.every(constantLogic);
  if (OVER_ITEMS.has(op)) return constantLogic(args[0]) && args.slice(1).every(readsOnlyData);
  return false;
}

/** No operation in `v` that reads time or has an effect (a body over items may read the items). */
function readsOnlyData(v: unknown): boolean {
  if (Array.isArray(v)) return v.every(readsOnlyData);
  if (!isOp(v)) return true;
  const op = Object.keys(v)[0]!;
  return !IMPURE_IN_BODY.has(op) && readsOnlyData(v[op]);
}

type Factory = (bound: unknown[]) => Compiled;
/**
 * One factory per source, that is per shape: the conditions of every rule of one shape are
 * closures of one function literal, so V8 keeps one feedback vector and one optimised code for
 * all of them. A function per rule would stay in the interpreter at 10,000 rules (each one runs
 * too rarely to be optimised) and fill the code space with copies at 1,000.
 */
const factories = new Map<string, Factory>();
const MAX_FACTORIES = 4096;

/**
 * The generated function for `logic`, or undefined when it would gain nothing (no node it
 * generates) or code generation is not allowed. `test`: it returns JsonLogic's truthiness of the
 * value, a boolean.
 */
export function generateLogic(
  logic: unknown,
  opts: LogicOptions,
  helpers: LogicHelpers,
  test = false,
): Compiled | undefined {
  if (!codegenAllowed()) return undefined;
  const g = new Generator(opts, helpers);
  const result = g.node(logic);
  if (g.shared.generated === 0) return undefined;
  const source = g.source(result, test);
  let factory = factories.get(source);
  if (factory === undefined) {
    factory = new Function('b', source) as Factory;
    if (factories.size >= MAX_FACTORIES) factories.clear();
    factories.set(source, factory);
  }
  return factory(g.shared.bound);
}
