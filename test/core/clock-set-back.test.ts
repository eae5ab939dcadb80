/**
 * A unit's wall clock set back (a GNSS week rollover; a unit without a battery-backed clock
 * restored ahead, then corrected): no window begun before holds for as long as the clock went back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ageOf, FakeClock } from '../../agent/core/clock.js';
import { OncePer } from '../../agent/core/once-per.js';
import { RefusalLimiter } from '../../agent/core/refusals.js';
import { FixMerger } from '../../agent/drivers/gnss/fix.js';
import type { NmeaSentence } from '../../agent/drivers/gnss/nmea-parse.js';
import { parseNmea } from '../../agent/drivers/gnss/nmea-parse.js';
import { rulesAgent } from '../helpers/agent.js';

const DAY = 86_400_000;

describe('the wall clock set back', () => {
  it('ageOf: an instant after now is long ago', () => {
    assert.equal(ageOf(10_000, 4_000), 6_000);
    assert.equal(ageOf(10_000, 10_000), 0);
    assert.equal(ageOf(10_000, 10_001), Number.POSITIVE_INFINITY);
  });

  it("FakeClock.jump moves the wall clock, not its timers' elapsed time", async () => {
    const clock = new FakeClock(DAY * 10);
    let fired = 0;
    clock.setTimeout(() => fired++, 1000);
    clock.jump(-DAY);
    assert.equal(clock.now(), DAY * 9);
    await clock.advance(999);
    assert.equal(fired, 0);
    await clock.advance(1);
    assert.equal(fired, 1);
  });

  it('a report window: the next report is due at once', () => {
    const clock = new FakeClock(DAY * 10);
    const once = new OncePer(clock, 10_000);
    assert.ok(once.due('disk'));
    assert.ok(!once.due('disk'));
    clock.jump(-DAY);
    assert.ok(once.due('disk'));
    assert.ok(!once.due('disk'), 'and its window starts again');
  });

  it('refusals: the bucket is full again, not emptied by the time gone back', () => {
    const clock = new FakeClock(DAY * 10);
    const refusals = new RefusalLimiter(clock, 2, 60_000);
    assert.deepEqual(
      [1, 2, 3].map(() => refusals.admit('cloud').report),
      [true, true, false],
    );
    clock.jump(-DAY);
    assert.equal(refusals.admit('cloud').report, true);
  });

  it('a throttled rule runs on the next event', async () => {
    const { agent, clock, events } = await rulesAgent(
      '- { name: alert, on: speed, throttle: 1h, do: [{ emit: { tag: alert } }] }',
    );
    const alerts = () => events.filter((e) => e.tag === 'alert').length;
    agent.bus.emit('speed', { value: 1 }, 'test');
    await clock.flush();
    agent.bus.emit('speed', { value: 2 }, 'test');
    await clock.flush();
    assert.equal(alerts(), 1, 'throttled');
    clock.jump(-DAY);
    agent.bus.emit('speed', { value: 3 }, 'test');
    await clock.flush();
    assert.equal(alerts(), 2);
  });

  it("'since' is never negative: a signal changed before the clock went back changed long ago", async () => {
    const { agent, clock, events } = await rulesAgent(
      "- { name: still, on: tick, when: { '>': [{ since: signals.obd.speed }, 300] }, do: [{ emit: { tag: still } }] }",
    );
    const still = () => events.filter((e) => e.tag === 'still').length;
    agent.signals.set('obd', 'speed', 50, clock.now());
    agent.bus.emit('tick', {}, 'test');
    await clock.advance(301_000);
    agent.bus.emit('tick', {}, 'test');
    assert.equal(still(), 1, 'unchanged for 301 s');
    agent.signals.set('obd', 'speed', 60, clock.now());
    agent.bus.emit('tick', {}, 'test');
    assert.equal(still(), 1, 'just changed');
    clock.jump(-DAY);
    agent.bus.emit('tick', {}, 'test');
    assert.equal(still(), 2, 'its age is not known: as a reading from before the step, long ago');
    agent.signals.set('obd', 'speed', 70, clock.now());
    agent.bus.emit('tick', {}, 'test');
    assert.equal(still(), 2, 'the next change counts from the clock as it is now');
  });

  it('a GNSS fix heard before is not fresh', () => {
    const fix = new FixMerger();
    const now = DAY * 10;
    fix.apply(
      parseNmea('$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47') as NmeaSentence,
      now,
    );
    assert.equal(fix.location(now + 1000, 5000).fix, '3d');
    assert.equal(fix.location(now - DAY, 5000).fix, 'none');
  });
});
