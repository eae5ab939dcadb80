import { didYouMean } from '../core/suggest.js';
import { OPERATORS as LOGIC_OPS } from './logic.js';

export interface LogicProblem {
  path: (string | number)[];
  message: string;
}

/**
 * Checks the structure of a JsonLogic expression without running it: every single-key
 * map is an operation and its operator must exist. Maps with several keys are data.
 */
export function checkLogic(
  expr: unknown,
  path: (string | number)[] = [],
  out: LogicProblem[] = [],
): LogicProblem[] {
  if (Array.isArray(expr)) {
    for (const [i, e] of expr.entries()) checkLogic(e, [...path, i], out);
    return out;
  }
  if (expr === null || typeof expr !== 'object') return out;
  const keys = Object.keys(expr);
  if (keys.length !== 1) return out;
  const op = keys[0]!;
  const arg = (expr as Record<string, unknown>)[op];
  if (!LOGIC_OPS.has(op)) {
    out.push({
      path: [...path, op],
      message: `unknown JsonLogic operator '${op}'${didYouMean(op, LOGIC_OPS)}`,
    });
    return out;
  }
  if (op === 'var' && !isVarArg(arg)) {
    out.push({ path: [...path, op], message: "'var' takes a path string, a number or [path, default]" });
  }
  if (op === 'since' && !(typeof arg === 'string' || (Array.isArray(arg) && typeof arg[0] === 'string'))) {
    out.push({ path: [...path, op], message: "'since' takes a signal path such as 'signals.obd.speed'" });
  }
  checkLogic(arg, [...path, op], out);
  return out;
}

function isVarArg(a: unknown): boolean {
  if (typeof a === 'string' || typeof a === 'number' || a === null) return true;
  if (Array.isArray(a)) return a.length <= 2;
  return a !== null && typeof a === 'object' && Object.keys(a).length === 1;
}
