import { toMinutes } from '../../schemas/common.js';
import type { LocalParts, ZonedTime } from './cron.js';

/** A timetable entry as config writes it (`day_of_week`, `time_slots`) or the cloud sends it (`dayOfWeek`, `timeSlots`). */
export interface TimetableEntryLike {
  day_of_week?: number | number[];
  dayOfWeek?: number | number[];
  time_slots?: { start: string; end: string }[];
  timeSlots?: { start: string; end: string }[];
}

/** A timetable read once: for each weekday (0 = Sunday) its slots as [start, end) minute pairs. */
export type Week = number[][];

/** ISO days 1 = Monday … 7 = Sunday; any other day matches nothing. */
export function weekOf(entries: readonly TimetableEntryLike[]): Week {
  const week: Week = Array.from({ length: 7 }, () => []);
  for (const e of entries) {
    const days = e.day_of_week ?? e.dayOfWeek ?? [];
    for (const d of Array.isArray(days) ? days : [days]) {
      if (!Number.isInteger(d) || d < 1 || d > 7) continue;
      for (const s of e.time_slots ?? e.timeSlots ?? [])
        week[d % 7]!.push(toMinutes(s.start), toMinutes(s.end));
    }
  }
  return week;
}

/** Whether local time falls inside a slot: start inclusive, end exclusive. */
export function inWeek(week: Week, p: LocalParts): boolean {
  const m = p.hour * 60 + p.minute;
  const slots = week[p.weekday]!;
  for (let i = 0; i < slots.length; i += 2) if (m >= slots[i]! && m < slots[i + 1]!) return true;
  return false;
}

/** Whether `ms` falls inside a slot of the timetable, in the zone's local time. */
export function inTimetable(entries: readonly TimetableEntryLike[], ms: number, zone: ZonedTime): boolean {
  return inWeek(weekOf(entries), zone.parts(ms));
}
