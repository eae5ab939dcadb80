/**
 * JsonLogic as generated JavaScript, for the hot conditions: comparisons, `and`/`or`/`!`/`if`,
 * constant `var` paths, `in` over a constant list, arithmetic. No value from a rule is ever written
 * into the source: constants, path segments, sets and the closures of the operators this does not
 * generate are passed in as bound arguments (`k3`, `f0`) and the source names only those, the
 * way ajv does. The source depends on the expression's shape alone. Where code generation is
 * disabled (`--disallow-code-generation-from-strings`), or for a shape it has nothing to gain on,
 * the closure compiler runs instead.
 */
import type { Compiled, LogicOptions } from './logic.js';

type CompileFn = (logic: unknown, opts: LogicOptions) => Compiled;

/** Whether this process may make functions from text; worked out once. */
let allowed: boolean | undefined;
export function codegenAllowed(): boolean {
  if (allowed === undefined) {
    try {
      allowed = new Function('return true')() === true;
    } catch {
      allowed = false;
    }
  }
  return allowed;
}

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

class Generator {
  readonly bound: unknown[] = [];
  private temps = 0;
  /** Nodes generated as code, against those handed to closures. */
  generated = 0;

  constructor(
    private readonly opts: LogicOptions,
    private readonly fallback: CompileFn,
  ) {}

  /** A bound value's name in the source. */
  private bind(value: unknown): string {
    this.bound.push(value);
    return `b${this.bound.length - 1}`;
  }

  private temp(): string {
    return `t${this.temps++}`;
  }

  /** JsonLogic's truthiness of `e` (an empty list is false), evaluating it once. */
  private truthy(e: Expr): string {
    return e.bool ? e.js : truthyInto(this.temp(), e.js);
  }

  node(logic: unknown): Expr {
    if (Array.isArray(logic)) return { js: `[${logic.map((l) => this.node(l).js).join(', ')}]` };
    if (!isOp(logic)) return { js: this.bind(logic) };
    const folded = this.fold(logic);
    if (folded) return folded;
    const op = Object.keys(logic)[0]!;
    const raw = logic[op];
    const args = Array.isArray(raw) ? raw : [raw];
    const made = this.op(op, args);
    if (made !== undefined) {
      this.generated++;
      return made;
    }
    // Anything else runs as the closure compiler made it, with the data.
    return { js: `${this.bind(this.fallback(logic, this.opts))}(d)` };
  }

  /**
   * An operation of constants alone, worked out once (by the closures) when its value is a plain
   * one: a list or map stays computed per call, as a caller may keep or change what it gets.
   */
  private fold(logic: Record<string, unknown>): Expr | undefined {
    if (!constantLogic(logic)) return undefined;
    let value: unknown;
    try {
      value = this.fallback(logic, this.opts)(null);
    } catch {
      return undefined;
    }
    if (value !== null && typeof value === 'object') return undefined;
    this.generated++;
    return { js: this.bind(value), bool: typeof value === 'boolean' };
  }

  private op(op: string, args: unknown[]): Expr | undefined {
    if (op === 'var') return this.variable(args);
    if (COMPARISONS.has(op) && args.length === 2) {
      const [a, b] = args.map((x) => this.node(x));
      return { js: `(${a!.js} ${op} ${b!.js})`, bool: true };
    }
    if ((op === '<' || op === '<=') && args.length === 3) {
      // Every argument is evaluated, as json-logic-js does.
      const [a, b, c] = args.map((x) => this.node(x));
      const [x, y, z] = [this.temp(), this.temp(), this.temp()];
      return {
        js: `(${x} = ${a!.js}, ${y} = ${b!.js}, ${z} = ${c!.js}, ${x} ${op} ${y} && ${y} ${op} ${z})`,
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
    return undefined;
  }

  /**
   * `var` with a constant path, each segment a bound name: optional chaining is json-logic-js's
   * walk (a null or missing step is not found), and only a missing last value takes the default.
   */
  private variable(args: unknown[]): Expr | undefined {
    const [a, b] = args;
    if (!(typeof a === 'string' || typeof a === 'number') || isOp(b) || Array.isArray(b) || args.length > 2)
      return undefined;
    if (a === '') return { js: 'd' };
    const walk = `d${String(a)
      .split('.')
      .map((p) => `?.[${this.bind(p)}]`)
      .join('')}`;
    if (b === undefined || b === null) return { js: `(${walk} ?? null)` };
    const t = this.temp();
    return { js: `((${t} = ${walk}) === undefined ? ${this.bind(b)} : ${t})` };
  }

  source(result: Expr): string {
    // The bound values, each read once into a constant of its own.
    const names = this.bound.map((_, i) => `b${i} = b[${i}]`).join(', ');
    const temps = Array.from({ length: this.temps }, (_, i) => `t${i}`).join(', ');
    return `${names ? `const ${names};\n` : ''}return function generated(d) {\n${temps ? `let ${temps};\n` : ''}return ${result.js};\n};`;
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

/**
 * The generated function for `logic`, or undefined when it would gain nothing (no node it
 * generates) or code generation is not allowed.
 */
export function generateLogic(logic: unknown, opts: LogicOptions, fallback: CompileFn): Compiled | undefined {
  if (!codegenAllowed()) return undefined;
  const g = new Generator(opts, fallback);
  const result = g.node(logic);
  if (g.generated === 0) return undefined;
  return new Function('b', g.source(result))(g.bound) as Compiled;
}
