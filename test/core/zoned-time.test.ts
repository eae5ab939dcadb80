import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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

  it('answers the instants of one second with the fields it computed once, and the next second anew', () => {
    const zone = new ZonedTime('Europe/Oslo');
    const t = Date.UTC(2026, 2, 29, 0, 59, 59); // 01:59:59 CET; the next second is 03:00:00 CEST
    const first = zone.parts(t);
    assert.equal(zone.parts(t + 999), first);
    assert.deepEqual({ ...first }, { month: 3, day: 29, hour: 1, minute: 59, second: 59, weekday: 0 });
    assert.deepEqual(
      { ...zone.parts(t + 1000) },
      { month: 3, day: 29, hour: 3, minute: 0, second: 0, weekday: 0 },
    );
    assert.deepEqual({ ...zone.parts(t + 999) }, { ...first }, 'going back a second');
  });

  it("takes the unit's own zone (none named) from the process, as Intl sees it, across DST", () => {
    // A child process with its own TZ: the zone is the process's, fixed at its start.
    const script = `
      import { ZonedTime } from ${JSON.stringify(new URL('../../agent/core/cron.ts', import.meta.url).href)};
      const zone = new ZonedTime();
      const intl = new Intl.DateTimeFormat('en-US', { hourCycle: 'h23', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
      let bad = 0, n = 0;
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 53 * 60_000 + 11_000, n++) {
        const want = {};
        for (const p of intl.formatToParts(t)) if (p.type !== 'literal') want[p.type] = Number(p.value);
        const got = zone.parts(t);
        if (['month', 'day', 'hour', 'minute'].some((k) => got[k] !== want[k])) bad++;
      }
      console.log(JSON.stringify({ bad, n }));`;
    for (const tz of ['Europe/Oslo', 'America/St_Johns', 'Australia/Lord_Howe']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, TZ: tz },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      const { bad, n } = JSON.parse(r.stdout) as { bad: number; n: number };
      assert.ok(n > 9000);
      assert.equal(bad, 0, `${tz}: ${bad} of ${n} instants differ`);
    }
  });
});
