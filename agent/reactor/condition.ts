import type { Condition } from '../core/types.js';
import type { ReactorHost } from './host.js';
import { compileTest } from './logic.js';

/**
 * The one way a condition is compiled, for rules, `if` actions, the `logic` filter and update gates:
 * `since` reads the signal store, `in_timetable` uses the unit's time zone, `now` is the clock's.
 */
export function conditionFactory(host: Pick<ReactorHost, 'signals' | 'clock' | 'unit'>) {
  const opts = {
    changedAt: (p: string) => host.signals.byPath(p)?.changedAt,
    changedAtOf: (p: string) => host.signals.reader(p),
    now: () => host.clock.now(),
    timezone: host.unit.timezone,
  };
  return (expr: unknown): Condition => compileTest(expr, opts);
}
