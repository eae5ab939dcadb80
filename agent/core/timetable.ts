import { toMinutes } from '../../schemas/common.js';
import type { ZonedTime } from './cron.js';

/** A timetable entry as config writes it (`day_of_week`, `time_slots`) or the cloud sends it (`dayOfWeek`, `timeSlots`). */
export interface TimetableEntryLike {
  day_of_week?: number | number[];
  dayOfWeek?: number | number[];
  time_slots?: { start: string; end: string }[];
  timeSlots?: { start: string; end: string }[];
}

/** Whether `ms` falls inside a slot: ISO days 1 = Monday … 7 = Sunday, local time, start inclusive, end exclusive. */
export function inTimetable(entries: readonly TimetableEntryLike[], ms: number, zone: ZonedTime): boolean {
  const p = zone.parts(ms);
  const isoDay = p.weekday === 0 ? 7 : p.weekday;
  const now = p.hour * 60 + p.minute;
  return entries.some((e) => {
    const days = e.day_of_week ?? e.dayOfWeek ?? [];
    if (!(Array.isArray(days) ? days : [days]).includes(isoDay)) return false;
    return (e.time_slots ?? e.timeSlots ?? []).some(
      (s) => now >= toMinutes(s.start) && now < toMinutes(s.end),
    );
  });
}
