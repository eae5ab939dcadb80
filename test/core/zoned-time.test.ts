import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ZonedTime } from '../../agent/core/cron.js';

const WEEK: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

describe('ZonedTime (arithmetic fields over a cached offset)', () => {
  for (const tz of ['Europe/Oslo', 'America/St_Johns', 'Australia/Lord_Howe', 'Pacific/Chatham', 'UTC']) {
    it(`agrees with Intl in ${tz}, across DST transitions, for two years`, () => {
      const zone = new ZonedTime(tz);
      const intl = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        weekday: 'short',
      });
      for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2027, 0, 1); t += 37 * 60_000 + 17_000) {
        const want: Record<string, number> = {};
        for (const p of intl.formatToParts(t))
          if (p.type === 'weekday') want.weekday = WEEK[p.value]!;
          else if (p.type !== 'literal') want[p.type] = Number(p.value);
        assert.deepEqual({ ...zone.parts(t) }, want, new Date(t).toISOString());
      }
    });
  }
});
