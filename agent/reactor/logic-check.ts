import { AnyTimetable } from '../../schemas/common.js';
import { didYouMean } from '../core/suggest.js';
import { OPERATORS as LOGIC_OPS, timetableArgs } from './logic.js';

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
  if (op === 'in_timetable') {
    const { table, inPlace } = timetableArgs(Array.isArray(arg) ? arg : [arg]);
    checkTimetable(table, inPlace ? [...path, op] : [...path, op, 0], out);
  }
  checkLogic(arg, [...path, op], out);
  return out;
}

/** A timetable written into a condition is checked like an update timetable (days, HH:MM, start < end). */
function checkTimetable(table: unknown, path: (string | number)[], out: LogicProblem[]): void {
  if (table !== null && typeof table === 'object' && !Array.isArray(table) && Object.keys(table).length === 1)
    return; // computed by logic: known only when it runs
  if (!Array.isArray(table)) {
    out.push({
      path,
      message: 'in_timetable takes a list of {day_of_week, time_slots: [{start, end}]} entries',
    });
    return;
  }
  const r = AnyTimetable.safeParse(table);
  if (r.success) return;
  const { at, message } = deepest(r.error.issues[0]!);
  out.push({ path: [...path, ...at], message: `timetable: ${message}` });
}

type Issue = import('zod').core.$ZodIssue;

/** A union's error points at the entry; its first member's first issue says what in it is wrong. */
function deepest(issue: Issue): { at: (string | number)[]; message: string } {
  const at = issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k));
  const inner = issue.code === 'invalid_union' ? issue.errors[0]?.[0] : undefined;
  if (!inner) return { at, message: issue.message };
  const d = deepest(inner);
  return { at: [...at, ...d.at], message: d.message };
}

function isVarArg(a: unknown): boolean {
  if (typeof a === 'string' || typeof a === 'number' || a === null) return true;
  if (Array.isArray(a)) return a.length <= 2;
  return a !== null && typeof a === 'object' && Object.keys(a).length === 1;
}
