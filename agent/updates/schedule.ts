import type { Clock, Timer } from '../core/clock.js';
import type { ZonedTime } from '../core/cron.js';
import type { SignalStore } from '../core/signals.js';
import { inWeek, type TimetableEntryLike, weekOf } from '../core/timetable.js';
import type { Condition } from '../core/types.js';
import type { ScheduleT } from './model.js';

const MINUTE = 60_000;
/** A week and a day, in minutes: every slot of a weekly timetable starts within it. */
const HORIZON = 8 * 24 * 60;

/**
 * When the next slot of a timetable starts: `now` when inside one, else the first minute of the
 * next (later today, another day, next week). Null when the timetable has no slot at all. Minutes
 * are stepped through in local time, so a DST change is handled like any other day.
 */
export function nextSlotStart(
  entries: readonly TimetableEntryLike[],
  now: number,
  zone: ZonedTime,
): number | null {
  const week = weekOf(entries);
  if (inWeek(week, zone.parts(now))) return now;
  let t = now - (now % MINUTE) + MINUTE;
  for (let i = 0; i < HORIZON; i++, t += MINUTE) if (inWeek(week, zone.parts(t))) return t;
  return null;
}

export interface GateDeps {
  clock: Clock;
  zone: ZonedTime;
  signals: SignalStore;
  /** The policy's `when` (JsonLogic over `{signals}`), if it has one. */
  when?: Condition;
}

/**
 * Holds an update in `readyToUpdate` until it may start (DESIGN §7.3): `force` at once, `trigger`
 * until triggered, `timetable` until a slot starts (a trigger overrides both); then `when`, checked
 * again on every signal change until it holds. A `when` that comes true after the slot ended
 * waits for the next slot: the slot gates the start.
 */
export class UpdateGate {
  constructor(private readonly deps: GateDeps) {}

  /** Calls `open` once the update may start; the returned function disarms the gate. */
  arm(schedule: ScheduleT, triggered: boolean, open: () => void): () => void {
    let timer: Timer | undefined;
    let unwatch: (() => void) | undefined;
    let done = false;
    const disarm = () => {
      done = true;
      timer?.cancel();
      unwatch?.();
    };
    const check = () => {
      if (done) return;
      timer?.cancel();
      if (!triggered && schedule.type === 'trigger') return;
      if (!triggered && schedule.type === 'timetable') {
        const now = this.deps.clock.now();
        const next = nextSlotStart(schedule.timetable ?? [], now, this.deps.zone);
        if (next === null) return;
        if (next > now) {
          // Outside a slot signal changes cannot open the gate: wait for the slot, not for them.
          unwatch?.();
          unwatch = undefined;
          timer = this.deps.clock.setTimeout(check, next - now);
          return;
        }
      }
      if (this.deps.when && !this.deps.when({ signals: this.deps.signals.tree })) {
        unwatch ??= this.deps.signals.watch(check);
        return;
      }
      disarm();
      open();
    };
    check();
    return disarm;
  }
}
