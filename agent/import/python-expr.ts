/**
 * AutoPi's conditions and keyword-resolved values are Python expressions over `$event` and
 * `$match`. The simple ones (comparisons, `and`/`or`/`not`, `in`, `is None`, literals, and
 * subscripts of `$event`) become JsonLogic and templates; anything else is refused with why, so the
 * importer can list it instead of guessing.
 */

type Tok =
  | { t: 'ref'; v: string }
  | { t: 'name'; v: string }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'op'; v: string };

export class ExprError extends Error {}

const OPS = ['==', '!=', '<=', '>=', '<', '>', '(', ')', '[', ']', ',', '.', '{', '}', ':'];
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const word = /^\$?[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (word) {
      const w = word[0];
      out.push(w.startsWith('$') ? { t: 'ref', v: w.slice(1) } : { t: 'name', v: w });
      i += w.length;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(src.slice(i));
    // A minus after a value would be a subtraction, which no condition here has.
    if (num && !(num[0].startsWith('-') && out.length > 0 && isOperand(out[out.length - 1]!))) {
      out.push({ t: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let s = '';
      let j = i + 1;
      for (; j < src.length && src[j] !== c; j++) {
        if (src[j] === '\\') {
          const e = ESCAPES[src[++j] ?? ''];
          if (e === undefined) throw new ExprError(`escape \\${src[j]} in a string`);
          s += e;
        } else s += src[j];
      }
      if (j >= src.length) throw new ExprError('a string is not closed');
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExprError(`'${c}' is not a comparison pitcrew can convert`);
    out.push({ t: 'op', v: op });
    i += op.length;
  }
  return out;
}

const isOperand = (t: Tok) => t.t !== 'op' || t.v === ')' || t.v === ']';

const COMPARE: Record<string, string> = {
  '==': '===',
  '!=': '!==',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};
const LITERALS: Record<string, unknown> = { True: true, False: false, None: null };

/** A value in the expression: a JsonLogic operand, and for `$event[…]` the path it reads. */
interface Operand {
  logic: unknown;
  path?: string;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  parse(): unknown {
    const v = this.or();
    if (this.i < this.toks.length) throw new ExprError(`unexpected ${show(this.toks[this.i]!)}`);
    return v;
  }

  /** A whole expression that is one reference, as a path: `$event["data"]["x"]` is `event.data.x`. */
  path(): string | undefined {
    const v = this.primary();
    return this.i === this.toks.length ? v.path : undefined;
  }

  private peek(v: string, t: Tok['t'] = 'op'): boolean {
    const tok = this.toks[this.i];
    return tok !== undefined && tok.t === t && tok.v === v;
  }

  private take(v: string, t: Tok['t'] = 'op'): boolean {
    if (!this.peek(v, t)) return false;
    this.i++;
    return true;
  }

  private expect(v: string): void {
    if (!this.take(v)) throw new ExprError(`expected '${v}'${this.atWhat()}`);
  }

  private atWhat(): string {
    const t = this.toks[this.i];
    return t ? ` before ${show(t)}` : ' at the end';
  }

  private or(): unknown {
    const parts = [this.and()];
    while (this.take('or', 'name')) parts.push(this.and());
    return parts.length === 1 ? parts[0] : { or: parts };
  }

  private and(): unknown {
    const parts = [this.not()];
    while (this.take('and', 'name')) parts.push(this.not());
    return parts.length === 1 ? parts[0] : { and: parts };
  }

  private not(): unknown {
    if (this.take('not', 'name')) return { '!': this.not() };
    return this.comparison();
  }

  private comparison(): unknown {
    const first = this.primary();
    const tests: unknown[] = [];
    let left = first;
    for (;;) {
      const op = this.compareOp();
      if (!op) break;
      const right = this.primary();
      tests.push(compare(op, left.logic, right.logic));
      left = right;
    }
    if (tests.length === 0) return first.path === undefined ? first.logic : { '!!': first.logic };
    return tests.length === 1 ? tests[0] : { and: tests };
  }

  private compareOp(): string | undefined {
    const t = this.toks[this.i];
    if (t?.t === 'op' && t.v in COMPARE) {
      this.i++;
      return t.v;
    }
    if (this.take('in', 'name')) return 'in';
    if (this.peek('not', 'name') && this.toks[this.i + 1]?.v === 'in') {
      this.i += 2;
      return 'not in';
    }
    if (this.take('is', 'name')) return this.take('not', 'name') ? '!=' : '==';
    return undefined;
  }

  private primary(): Operand {
    const t = this.toks[this.i++];
    if (!t) throw new ExprError('the expression ends too soon');
    if (t.t === 'str' || t.t === 'num') return { logic: t.v };
    if (t.t === 'name') {
      if (t.v in LITERALS) return { logic: LITERALS[t.v] };
      throw new ExprError(`'${t.v}' is Python code, not a value pitcrew can convert`);
    }
    if (t.t === 'ref') return this.reference(t.v);
    if (t.v === '(') {
      const v = this.or();
      this.expect(')');
      return { logic: v };
    }
    if (t.v === '[') {
      const items: unknown[] = [];
      while (!this.take(']')) {
        const item = this.primary();
        if (item.path !== undefined) throw new ExprError('a list of references');
        items.push(item.logic);
        if (!this.peek(']')) this.expect(',');
      }
      return { logic: items };
    }
    if (t.v === '{' && this.take('}')) return { logic: {} };
    throw new ExprError(`unexpected ${show(t)}`);
  }

  /** `$event` with `["key"]`, `[0]` and `.get("key"[, default])`; `$match.group(n)`. */
  private reference(root: string): Operand {
    if (root === 'match') return this.matchGroup();
    if (root !== 'event')
      throw new ExprError(
        root === 'context'
          ? "the event reactor's context has no counterpart; keep such values in state (the state action)"
          : `$${root} has no counterpart in pitcrew`,
      );
    const keys = ['event'];
    let fallback: unknown;
    for (;;) {
      if (this.take('[')) {
        const k = this.toks[this.i++];
        if (!k || (k.t !== 'str' && k.t !== 'num')) throw new ExprError('a subscript that is not a constant');
        this.expect(']');
        keys.push(String(k.v));
        fallback = undefined;
      } else if (this.peek('.') && this.toks[this.i + 1]?.v === 'get') {
        this.i += 2;
        this.expect('(');
        const k = this.toks[this.i++];
        if (k?.t !== 'str') throw new ExprError('.get( with a key that is not a constant');
        keys.push(k.v);
        fallback = this.take(',') ? this.primary().logic : undefined;
        this.expect(')');
      } else break;
      if (keys[keys.length - 1]!.includes('.'))
        throw new ExprError(`the key '${keys.at(-1)}' has a dot in it`);
    }
    const path = keys.join('.');
    // Only the last .get()'s default counts: the ones before it ({}) keep Python's chain from failing.
    return { logic: { var: fallback === undefined ? path : [path, fallback] }, path };
  }

  /** `$match.group(1)` is the first capture group: pitcrew's `match.0`. */
  private matchGroup(): Operand {
    if (!this.take('.') || !this.take('group', 'name'))
      throw new ExprError('$match other than $match.group(n)');
    this.expect('(');
    const n = this.toks[this.i++];
    this.expect(')');
    // pitcrew's match lists the groups by position only.
    if (n?.t !== 'num' || !Number.isInteger(n.v) || n.v < 1)
      throw new ExprError(
        '$match.group( takes a group number from 1 here (groups by name: write its number)',
      );
    const path = `match.${n.v - 1}`;
    return { logic: { var: path }, path };
  }
}

function compare(op: string, a: unknown, b: unknown): unknown {
  if (op === 'in') return { in: [a, b] };
  if (op === 'not in') return { '!': { in: [a, b] } };
  return { [COMPARE[op]!]: [a, b] };
}

function show(t: Tok): string {
  if (t.t === 'ref') return `$${t.v}`;
  if (t.t === 'str') return JSON.stringify(t.v);
  return `'${t.v}'`;
}

/** A Python condition as JsonLogic; an `ExprError` says why one cannot be converted. */
export function conditionToLogic(src: string): unknown {
  return new Parser(tokenize(src)).parse();
}

/**
 * A keyword-resolved value as a template: a string that is exactly one `$event…` reference is
 * `{{ path }}` (it keeps its type); a string without `$` is itself; anything else is refused.
 */
export function valueToTemplate(src: string): string {
  if (!src.includes('$')) return src;
  const path = new Parser(tokenize(src)).path();
  if (path === undefined) throw new ExprError(`'${src}' is an expression, not one value`);
  return `{{ ${path} }}`;
}
