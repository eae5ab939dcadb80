import { errors } from '../errors.js';

/**
 * A PID formula as config writes it, `(A*256+B)/4`: numbers, the data bytes A … H, + - * /,
 * parentheses and unary minus. Parsed once into a function; never evaluated as code.
 */
export function compileFormula(text: string, bytes: number): (b: number[]) => number {
  let i = 0;
  const fail = (why: string) => {
    throw errors.DRIVER_ERROR(`formula ${JSON.stringify(text)}: ${why} at column ${i + 1}`);
  };
  const skip = () => {
    while (text[i] === ' ') i++;
  };
  type Node = (b: number[]) => number;
  const atom = (): Node => {
    skip();
    const c = text[i];
    if (c === '(') {
      i++;
      const e = sum();
      skip();
      if (text[i] !== ')') fail("')' expected");
      i++;
      return e;
    }
    if (c === '-') {
      i++;
      const e = atom();
      return (b) => -e(b);
    }
    if (c !== undefined && c >= 'A' && c <= 'H') {
      const k = c.charCodeAt(0) - 65;
      if (k >= bytes) fail(`byte ${c} is past the PID's ${bytes} bytes`);
      i++;
      return (b) => b[k]!;
    }
    const m = /^\d+(\.\d+)?/.exec(text.slice(i));
    if (!m) fail('a number, a byte A-H or ( expected');
    i += m![0].length;
    const v = Number(m![0]);
    return () => v;
  };
  const binary =
    (next: () => Node, ops: string): (() => Node) =>
    () => {
      let left = next();
      for (skip(); text[i] !== undefined && ops.includes(text[i]!); skip()) {
        const op = text[i++]!;
        const l = left;
        const r = next();
        left =
          op === '+'
            ? (b) => l(b) + r(b)
            : op === '-'
              ? (b) => l(b) - r(b)
              : op === '*'
                ? (b) => l(b) * r(b)
                : (b) => l(b) / r(b);
      }
      return left;
    };
  const product = binary(atom, '*/');
  const sum = binary(product, '+-');
  const f = sum();
  skip();
  if (i < text.length) fail(`unexpected '${text[i]}'`);
  return f;
}
