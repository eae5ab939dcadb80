import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock } from '../../agent/core/clock.js';
import { ZonedTime } from '../../agent/core/cron.js';
import { SignalStore } from '../../agent/core/signals.js';
import { conditionFactory } from '../../agent/reactor/condition.js';
import { nextSlotStart, UpdateGate } from '../../agent/updates/schedule.js';

const utc = new ZonedTime('UTC');
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
// 2026-01-05 is a Monday.
const weeknights = [{ day_of_week: [1, 2, 3, 4, 5], time_slots: [{ start: '02:00', end: '04:00' }] }];

describe('nextSlotStart', () => {
  test('now, when inside a slot (start inclusive)', () => {
    assert.equal(iso(nextSlotStart(weeknights, at('2026-01-06T03:10:00Z'), utc)), '2026-01-06T03:10:00.000Z');
    assert.equal(iso(nextSlotStart(weeknights, at('2026-01-06T02:00:00Z'), utc)), '2026-01-06T02:00:00.000Z');
  });
  test('later today', () => {
    const t = [{ dayOfWeek: 2, timeSlots: [{ start: '22:30', end: '23:00' }] }];
    assert.equal(iso(nextSlotStart(t, at('2026-01-06T09:15:27Z'), utc)), '2026-01-06T22:30:00.000Z');
  });
  test("a slot already passed today: tomorrow's", () => {
    assert.equal(iso(nextSlotStart(weeknights, at('2026-01-06T04:00:00Z'), utc)), '2026-01-07T02:00:00.000Z');
  });
  test('across the weekend: Friday after the slot goes to Monday', () => {
    assert.equal(iso(nextSlotStart(weeknights, at('2026-01-09T05:00:00Z'), utc)), '2026-01-12T02:00:00.000Z');
  });
  test('Sunday is 7', () => {
    const sunday = [{ day_of_week: 7, time_slots: [{ start: '10:00', end: '11:00' }] }];
    assert.equal(iso(nextSlotStart(sunday, at('2026-01-05T12:00:00Z'), utc)), '2026-01-11T10:00:00.000Z');
    assert.equal(iso(nextSlotStart(sunday, at('2026-01-11T10:30:00Z'), utc)), '2026-01-11T10:30:00.000Z');
    // The same weekday, after its slot: a week later.
    assert.equal(iso(nextSlotStart(sunday, at('2026-01-11T11:00:00Z'), utc)), '2026-01-18T10:00:00.000Z');
  });
  test("in the unit's time zone", () => {
    // 02:00 in Oslo (UTC+1 in winter) is 01:00 UTC.
    assert.equal(
      iso(nextSlotStart(weeknights, at('2026-01-05T12:00:00Z'), new ZonedTime('Europe/Oslo'))),
      '2026-01-06T01:00:00.000Z',
    );
  });
  test('no slot at all: null', () => {
    assert.equal(nextSlotStart([], at('2026-01-05T12:00:00Z'), utc), null);
  });
});

describe('update gate', () => {
  function gate(when?: unknown) {
    const clock = new FakeClock(at('2026-01-05T12:00:00Z'));
    const signals = new SignalStore();
    const g = new UpdateGate({
      clock,
      zone: utc,
      signals,
      ...(when ? { when: conditionFactory({ signals, clock, unit: { id: 'u' } })(when) } : {}),
    });
    return { clock, signals, g };
  }

  test('force opens at once; trigger only when triggered', () => {
    const { g } = gate();
    let opened = 0;
    g.arm({ type: 'force' }, false, () => opened++);
    assert.equal(opened, 1);
    g.arm({ type: 'trigger' }, false, () => opened++);
    assert.equal(opened, 1);
    g.arm({ type: 'trigger' }, true, () => opened++);
    assert.equal(opened, 2);
  });

  test('timetable opens when the next slot starts, not before', async () => {
    const { g, clock } = gate();
    let openedAt: string | null = null;
    g.arm({ type: 'timetable', timetable: weeknights }, false, () => {
      openedAt = iso(clock.now());
    });
    await clock.advance(14 * 3_600_000 - 60_000);
    assert.equal(openedAt, null);
    await clock.advance(60_000);
    assert.equal(openedAt, '2026-01-06T02:00:00.000Z');
  });

  test('when waits for the vehicle to stop, re-checked on signal changes', () => {
    const { g, signals } = gate({ '==': [{ var: 'signals.obd.speed' }, 0] });
    signals.set('obd', 'speed', 42, 0);
    let opened = 0;
    g.arm({ type: 'force' }, false, () => opened++);
    assert.equal(opened, 0);
    signals.set('obd', 'speed', 12, 1);
    assert.equal(opened, 0);
    signals.set('obd', 'speed', 0, 2);
    assert.equal(opened, 1);
    signals.set('obd', 'speed', 5, 3);
    signals.set('obd', 'speed', 0, 4);
    assert.equal(opened, 1, 'opens once');
  });

  test('a when that comes true after the slot ended waits for the next slot', async () => {
    const { g, clock, signals } = gate({ '==': [{ var: 'signals.obd.speed' }, 0] });
    signals.set('obd', 'speed', 30, 0);
    let openedAt: string | null = null;
    g.arm({ type: 'timetable', timetable: weeknights }, false, () => {
      openedAt = iso(clock.now());
    });
    await clock.advance(14 * 3_600_000); // Tuesday 02:00: slot open, still driving
    assert.equal(openedAt, null);
    await clock.advance(2 * 3_600_000); // 04:00: slot over
    signals.set('obd', 'speed', 0, clock.now());
    assert.equal(openedAt, null);
    await clock.advance(22 * 3_600_000); // Wednesday 02:00
    assert.equal(openedAt, '2026-01-07T02:00:00.000Z');
  });

  test('disarming stops it', async () => {
    const { g, clock } = gate();
    let opened = 0;
    const disarm = g.arm({ type: 'timetable', timetable: weeknights }, false, () => opened++);
    disarm();
    await clock.advance(7 * 86_400_000);
    assert.equal(opened, 0);
    assert.equal(clock.timers, 0);
  });
});
