import cron from 'node-cron';
import { errors } from './errors.js';
import { deepFreeze } from './freeze.js';

const HOUR_S = 3600;

interface Fields {
  second: Set<number>;
  minute: Set<number>;
  hour: Set<number>;
  dayOfMonth: Set<number>;
  month: Set<number>;
  dayOfWeek: Set<number>;
}

/** Each field's name and largest value, seconds first (a 5-field expression starts at minutes). */
const FIELDS: [string, number][] = [
  ['second', 59],
  ['minute', 59],
  ['hour', 23],
  ['day of month', 31],
  ['month', 12],
  ['day of week', 7],
];

type CronCheck = ReturnType<typeof cron.validateDetailed>;
const checked = new Map<string, CronCheck>();
/** Expressions come from the config: a few, each checked again only after this many others. */
const MAX_CHECKED = 256;

/**
 * node-cron's check of an expression (its errors, or its fields), once per expression: the config's
 * check and the schedule built from it read the same, where each had compiled its dozens of
 * regular expressions again.
 */
export function checkCron(expression: string): CronCheck {
  let r = checked.get(expression);
  if (r === undefined) {
    if (checked.size >= MAX_CHECKED) checked.clear();
    r = deepFreeze(cron.validateDetailed(expression));
    checked.set(expression, r);
  }
  return r;
}

/**
 * What node-cron lets through but should not: a step larger than its field (every 70th second
 * would quietly mean "second 0"). Returns the problem, or undefined.
 */
export function cronStepProblem(expression: string): string | undefined {
  const parts = expression.trim().split(/\s+/);
  const fields = parts.length === 5 ? FIELDS.slice(1) : FIELDS;
  for (const [i, part] of parts.entries()) {
    const field = fields[i];
    if (!field) break;
    for (const item of part.split(',')) {
      const step = /\/(\d+)$/.exec(item);
      if (step && (Number(step[1]) < 1 || Number(step[1]) > field[1]))
        return `step /${step[1]} in the ${field[0]} field is outside 1..${field[1]}`;
    }
  }
  return undefined;
}

/** Local wall-clock fields of an instant; shared between the instants of one second, so read-only. */
export interface LocalParts {
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: number;
}

const DAY_MS = 86_400_000;
/** Offsets change on quarter-hour boundaries (UTC) in every zone: one lookup serves each quarter. */
const QUARTER_MS = 15 * 60_000;

/**
 * One formatter per named zone, for every rule and timetable: each holds ICU data, and building one
 * costs about as much as a thousand lookups with it.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * Local wall-clock parts of an instant in a time zone. The zone's offset comes from Intl (or, for
 * the unit's own zone, from Date) once per quarter hour; the fields are arithmetic on top of it
 * (Intl per call costs ~100x more).
 */
export class ZonedTime {
  private quarter = Number.NaN;
  private offset = 0;
  /** The last second asked for and its fields: a burst of events asks about the same second. */
  private second = Number.NaN;
  private last!: LocalParts;

  constructor(private readonly timeZone?: string) {}

  /**
   * The zone's offset from UTC at `ms`, in ms. The unit's own zone comes from Date, which needs no
   * formatter: building one costs ~20 ms of a start that runs a timetable.
   */
  private offsetAt(ms: number): number {
    if (this.timeZone === undefined) return -new Date(ms).getTimezoneOffset() * 60_000;
    const f: Record<string, number> = {};
    for (const p of formatterOf(this.timeZone).formatToParts(ms))
      if (p.type !== 'literal') f[p.type] = Number(p.value);
    const local = Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!, f.second!);
    return local - Math.floor(ms / 1000) * 1000;
  }

  parts(ms: number): LocalParts {
    const second = Math.floor(ms / 1000);
    if (second === this.second) return this.last;
    this.second = second;
    this.last = this.fields(ms);
    return this.last;
  }

  private fields(ms: number): LocalParts {
    const q = Math.floor(ms / QUARTER_MS);
    if (q !== this.quarter) {
      this.quarter = q;
      this.offset = this.offsetAt(q * QUARTER_MS);
    }
    const local = ms + this.offset;
    const days = Math.floor(local / DAY_MS);
    const inDay = local - days * DAY_MS;
    // Days to civil date (H. Hinnant's algorithm), proleptic Gregorian.
    const z = days + 719_468;
    const era = Math.floor(z / 146_097);
    const doe = z - era * 146_097;
    const yoe = Math.floor(
      (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
    );
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    return {
      month: mp < 10 ? mp + 3 : mp - 9,
      day: doy - Math.floor((153 * mp + 2) / 5) + 1,
      hour: Math.floor(inDay / 3_600_000),
      minute: Math.floor((inDay % 3_600_000) / 60_000),
      second: Math.floor((inDay % 60_000) / 1000),
      weekday: (((days + 4) % 7) + 7) % 7,
    };
  }
}

/**
 * node-cron expressions (6 fields, seconds first; 5 fields start at minutes), evaluated on any clock:
 * `next(t)` finds the first matching second after t in the unit's time zone.
 */
export class CronSchedule {
  private readonly fields: Fields;
  private readonly zone: ZonedTime;

  constructor(
    readonly expression: string,
    timeZone?: string,
  ) {
    const checked = checkCron(expression);
    // node-cron's parse, without its second check.
    if (!checked.valid) throw new Error(checked.errors[0]!.message);
    const p = checked.fields!;
    const set = (xs: (number | string)[]) => new Set(xs.map(Number));
    const dow = set(p.dayOfWeek);
    if (dow.has(7)) dow.add(0);
    this.fields = {
      second: set(p.second),
      minute: set(p.minute),
      hour: set(p.hour),
      dayOfMonth: set(p.dayOfMonth),
      month: set(p.month),
      dayOfWeek: dow,
    };
    this.zone = new ZonedTime(timeZone);
  }

  /** The first matching instant (whole second, ms epoch) strictly after `after`. */
  next(after: number): number {
    let t = Math.floor(after / 1000) * 1000 + 1000;
    for (let i = 0; i < 200_000; i++) {
      const p = this.zone.parts(t);
      let stepS = 0;
      if (
        !this.fields.month.has(p.month) ||
        !this.fields.dayOfMonth.has(p.day) ||
        !this.fields.dayOfWeek.has(p.weekday)
      ) {
        // To the next local midnight, an hour short so a DST day (23 h or 25 h) cannot make us skip one.
        stepS = (24 - p.hour) * HOUR_S - p.minute * 60 - p.second;
        if (stepS > HOUR_S) stepS -= HOUR_S;
      } else if (!this.fields.hour.has(p.hour)) stepS = HOUR_S - p.minute * 60 - p.second;
      else if (!this.fields.minute.has(p.minute)) stepS = 60 - p.second;
      else if (!this.fields.second.has(p.second)) stepS = 1;
      else return t;
      t += stepS * 1000;
    }
    throw errors.CRON_NEVER(this.expression);
  }
}
