import * as z from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses `250ms`, `30s`, `5m`, `2h`, `30d` or a number of seconds into milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') return input * 1000;
  const m = DURATION_RE.exec(input.trim());
  if (!m) throw new Error(`bad duration '${input}'`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

const DURATION_HINT = 'expected a duration such as 250ms, 30s, 5m, 2h, 30d or a number of seconds';

/** A duration in config; parsed to milliseconds. */
export const Duration = z
  .union(
    [
      z.number().nonnegative({ error: DURATION_HINT }),
      z.string().regex(DURATION_RE, { error: DURATION_HINT }),
    ],
    { error: DURATION_HINT },
  )
  .transform(parseDuration)
  .meta({ description: 'Duration: 250ms, 30s, 5m, 2h, 30d or seconds as a number' });

const UNIT_BYTES = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as const;
export const BYTES_RE = /^(\d+)(B|KB|MB|GB)$/;

/** A size in config (`256KB`, `256MB` or a number of bytes); parsed to bytes. */
const BYTES_HINT = 'expected a size such as 512B, 256KB, 256MB, 1GB or a number of bytes';
export const Bytes = z
  .union(
    [z.number().int().nonnegative({ error: BYTES_HINT }), z.string().regex(BYTES_RE, { error: BYTES_HINT })],
    { error: BYTES_HINT },
  )
  .transform((v) => {
    if (typeof v === 'number') return v;
    const m = BYTES_RE.exec(v)!;
    return Number(m[1]) * UNIT_BYTES[m[2] as keyof typeof UNIT_BYTES];
  });

/** Names of services, workers, hooks and rules: used in events, tags and CLI arguments. */
export const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, {
  error: 'names use letters, digits, _ and - and start with a letter or digit',
});

/** An event tag pattern: segments with `+` / `#` wildcards, or `re:<regex>`. */
export const Pattern = z.string().min(1, { error: 'a pattern cannot be empty' });

/** A JsonLogic expression: structure is checked by the reactor's logic checker. */
/**
 * A condition: a JsonLogic object, or true/false. A string would be a JsonLogic literal, always
 * true: an expression written as text (`"$event.value > 3"`, as some agents take it) is refused.
 */
export const Logic = z
  .union([z.boolean(), z.record(z.string(), z.unknown())], {
    error: (issue) =>
      typeof issue.input === 'string'
        ? `a condition is JsonLogic, not text: write {">": [{"var": "event.data.value"}, 3]} rather than "${issue.input}" (try it with pitcrew logic)`
        : 'a condition is a JsonLogic object such as {"==": [{"var": "event.data.on"}, true]}, or true/false',
  })
  .meta({ description: 'JsonLogic expression' });

export const Args = z.record(z.string(), z.unknown());

const HHMM_RE = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const HHMM = z.string().regex(HHMM_RE, { error: 'expected a time HH:MM' });
/** Minutes since midnight of `HH:MM`. */
export const toMinutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

export const TimeSlot = z
  .strictObject({ start: HHMM, end: HHMM })
  .refine((s) => !HHMM_RE.test(s.start) || !HHMM_RE.test(s.end) || toMinutes(s.start) < toMinutes(s.end), {
    error: 'start must be before end',
  });

const IsoDay = z.number().int().min(1, { error: 'days run 1 (Monday) to 7 (Sunday)' }).max(7, {
  error: 'days run 1 (Monday) to 7 (Sunday)',
});

/** Timetable entry in config (snake_case, several days at once). */
export const TimetableEntry = z.strictObject({
  day_of_week: z.union([IsoDay, z.array(IsoDay).min(1)]),
  time_slots: z.array(TimeSlot).min(1),
});
export const Timetable = z.array(TimetableEntry).min(1);

/** A slot as an Aos cloud writes it, `HH:MM:SS` (seconds are not kept: slots are minutes). */
const WireTimeSlot = z.preprocess((v) => {
  if (v === null || typeof v !== 'object') return v;
  const cut = (t: unknown) => (typeof t === 'string' && /^\d\d:\d\d:\d\d$/.test(t) ? t.slice(0, 5) : t);
  const { start, end } = v as { start?: unknown; end?: unknown };
  return { ...v, start: cut(start), end: cut(end) };
}, TimeSlot);

/** Timetable entry as the cloud writes it (camelCase); `in_timetable` takes either form. */
export const WireTimetableEntry = z.strictObject({
  dayOfWeek: z.union([IsoDay, z.array(IsoDay).min(1)]),
  timeSlots: z.array(WireTimeSlot).min(1),
});
export const AnyTimetable = z.array(z.union([TimetableEntry, WireTimetableEntry])).min(1, {
  error: 'a timetable lists at least one entry',
});

export type TimetableEntryT = z.infer<typeof TimetableEntry>;

/** What an operator or a rule can do to a worker. */
export const WorkerAction = z.enum(['start', 'pause', 'resume', 'kill']);
export type WorkerActionT = z.infer<typeof WorkerAction>;

/** The two update machines (DESIGN §7.2): FOTA installs components, SOTA services and layers. */
export const UpdateKind = z.enum(['fota', 'sota']);
export type UpdateKindT = z.infer<typeof UpdateKind>;
