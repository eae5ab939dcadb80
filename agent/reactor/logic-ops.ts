/** Operator names the reactor's JsonLogic accepts: json-logic-js 2.x's set (without `method`) plus extensions. */
export const STANDARD_OPS = [
  'var', 'missing', 'missing_some', 'if', '?:', '==', '===', '!=', '!==', '!', '!!', 'or', 'and',
  '<', '<=', '>', '>=', 'max', 'min', '+', '-', '*', '/', '%', 'map', 'filter', 'reduce', 'all',
  'none', 'some', 'merge', 'in', 'cat', 'substr', 'log',
] as const;

export const EXTENSION_OPS = ['since', 'distance', 'in_timetable'] as const;

export const LOGIC_OPS: ReadonlySet<string> = new Set<string>([...STANDARD_OPS, ...EXTENSION_OPS]);
