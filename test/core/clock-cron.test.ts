import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, timerScope } from '../../agent/core/clock.js';
import { CronSchedule, checkCron } from '../../agent/core/cron.js';

describe('FakeClock', () => {
  it('runs timers in time order, same-time ones in the order set, and those they set', async () => {
    const clock = new FakeClock(0);
    const order: string[] = [];
    clock.setTimeout(() => order.push('b@20'), 20);
    clock.setTimeout(() => order.push('a@10'), 10);
    clock.setTimeout(() => {
      order.push('c@10');
      clock.setTimeout(() => order.push('d@15'), 5);
    }, 10);
    const cancelled = clock.setTimeout(() => order.push('never'), 5);
    cancelled.cancel();
    await clock.advance(19);
    assert.deepEqual(order, ['a@10', 'c@10', 'd@15']);
    assert.equal(clock.now(), 19);
    await clock.advance(1);
    assert.deepEqual(order, ['a@10', 'c@10', 'd@15', 'b@20']);
  });
});

describe('timerScope', () => {
  it('cancels every timer still pending at once, and keeps none that fired or was cancelled', async () => {
    const clock = new FakeClock(0);
    const scope = timerScope(clock);
    const fired: string[] = [];
    scope.setTimeout(() => fired.push('early'), 10);
    scope.setTimeout(() => fired.push('cancelled'), 20).cancel();
    scope.setTimeout(() => fired.push('late'), 30);
    clock.setTimeout(() => fired.push('outside'), 30);
    await clock.advance(15);
    assert.equal(scope.now(), 15);
    scope.cancelAll();
    await clock.advance(100);
    assert.deepEqual(fired, ['early', 'outside']);
    assert.equal(clock.timers, 0);
  });
});

const utc = (s: string) => Date.parse(s);

describe('CronSchedule (node-cron syntax, any clock)', () => {
  it('finds the next second of a 6-field expression', () => {
    const c = new CronSchedule('*/10 * * * * *', 'UTC');
    assert.equal(c.next(utc('2026-03-01T10:00:00Z')), utc('2026-03-01T10:00:10Z'));
    assert.equal(c.next(utc('2026-03-01T10:00:59.5Z')), utc('2026-03-01T10:01:00Z'));
  });

  it('reads 5 fields as minute-first', () => {
    const c = new CronSchedule('30 2 * * *', 'UTC');
    assert.equal(c.next(utc('2026-03-01T10:00:00Z')), utc('2026-03-02T02:30:00Z'));
  });

  it('uses the unit time zone, across a DST change', () => {
    // Oslo moves from UTC+1 to UTC+2 on 2026-03-29 at 02:00 local.
    const c = new CronSchedule('0 0 3 * * *', 'Europe/Oslo');
    assert.equal(c.next(utc('2026-03-28T12:00:00Z')), utc('2026-03-29T01:00:00Z'));
    assert.equal(c.next(utc('2026-03-29T01:00:00Z')), utc('2026-03-30T01:00:00Z'));
  });

  it('honours days of week (1 = Monday, 0 and 7 = Sunday) and months', () => {
    const weekdays = new CronSchedule('0 0 9 * * 1-5', 'UTC');
    // 2026-03-07 is a Saturday: the next weekday 09:00 is Monday the 9th.
    assert.equal(weekdays.next(utc('2026-03-07T00:00:00Z')), utc('2026-03-09T09:00:00Z'));
    const sundays = new CronSchedule('0 0 0 * * 7', 'UTC');
    assert.equal(sundays.next(utc('2026-03-07T00:00:00Z')), utc('2026-03-08T00:00:00Z'));
    const june = new CronSchedule('0 0 0 1 6 *', 'UTC');
    assert.equal(june.next(utc('2026-03-07T00:00:00Z')), utc('2026-06-01T00:00:00Z'));
  });

  it('gives up on an expression that never fires', () => {
    assert.throws(
      () => new CronSchedule('0 0 0 31 2 *', 'UTC').next(0),
      /impossible day of month|never fires/,
    );
  });

  it("checks an expression once: the config's check and the schedule read the same, frozen", () => {
    const first = checkCron('0 */5 * * * *');
    assert.equal(checkCron('0 */5 * * * *'), first);
    assert.ok(first.valid && Object.isFrozen(first.fields?.minute));
    const bad = checkCron('0 0 0 31 2 *');
    assert.equal(bad.valid, false);
    assert.throws(() => new CronSchedule('0 0 0 31 2 *', 'UTC'), { message: bad.errors[0]!.message });
  });
});
