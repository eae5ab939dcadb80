/**
 * The power policy on a fake clock (DESIGN §13): exact timer edges, hysteresis, stale readings,
 * the cut-out beside `inhibit`, and what a wake resets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../agent/core/clock.js';
import type { PowerAction } from '../../agent/power/logind.js';
import { PowerPolicy } from '../../agent/power/policy.js';
import { Power } from '../../schemas/power.js';

function policy(settings: unknown) {
  const clock = new FakeClock(0);
  const world = { volts: 12.6 as number | undefined, ts: 0, parked: false, inhibited: false };
  const acts: [PowerAction, string][] = [];
  const held: PowerAction[] = [];
  const p = new PowerPolicy({
    clock,
    settings: Power.parse(settings),
    reading: () => (world.volts === undefined ? undefined : { volts: world.volts, ts: world.ts }),
    sleepWanted: () => world.parked,
    inhibited: () => world.inhibited,
    act: (a, reason) => acts.push([a, reason]),
    held: (a) => held.push(a),
  });
  /** A reading now, and the policy told (as a signal change would). */
  const read = (volts: number | undefined) => {
    world.volts = volts;
    world.ts = clock.now();
    p.evaluate();
  };
  return { clock, world, acts, held, p, read };
}

const SLEEP = { voltage: 'signals.obd.voltage', sleep: { after: '10m', when: true } };

describe('power policy', () => {
  it('sleeps exactly sleep.after after sleep.when began to hold; a moment without it starts again', async () => {
    const t = policy(SLEEP);
    t.world.parked = true;
    t.p.evaluate();
    await t.clock.advance(300_000);
    t.world.parked = false;
    t.p.evaluate();
    t.world.parked = true;
    t.p.evaluate();
    await t.clock.advance(599_999);
    assert.deepEqual(t.acts, []);
    await t.clock.advance(1);
    assert.deepEqual(t.acts, [['sleep', 'sleep timer: sleep.when held for 10m']]);
    await t.clock.advance(3_600_000);
    assert.equal(t.acts.length, 1, 'once, until it wakes');
    t.p.reset();
    await t.clock.advance(600_000);
    assert.equal(t.acts.length, 2, 'after a wake the timer runs again');
  });

  it('holds sleep back while inhibit holds, says so once, and sleeps when it lets go', async () => {
    const t = policy(SLEEP);
    t.world.parked = true;
    t.world.inhibited = true;
    t.p.evaluate();
    await t.clock.advance(600_000);
    await t.clock.advance(60_000);
    assert.deepEqual([t.acts, t.held], [[], ['sleep']]);
    t.world.inhibited = false;
    await t.clock.advance(5000);
    assert.deepEqual(
      t.acts.map(([a]) => a),
      ['sleep'],
      'looked at again while held',
    );
  });

  it('cuts out below the voltage held for its time, inhibit or not; hysteresis before it counts as recovered', async () => {
    const t = policy({
      voltage: 'signals.obd.voltage',
      cutout: { below: '11.8V', for: '1m' },
      max_age: '10m',
    });
    t.world.inhibited = true;
    t.read(11.7);
    await t.clock.advance(30_000);
    t.read(11.9); // above the threshold, but not by the 0.2 V hysteresis: still low
    await t.clock.advance(29_999);
    assert.deepEqual(t.acts, []);
    await t.clock.advance(1);
    assert.deepEqual(t.acts, [['shutdown', 'cut-out: 11.9 V below 11.8 V for 1m']]);

    const r = policy({
      voltage: 'signals.obd.voltage',
      cutout: { below: '11.8V', for: '1m' },
      max_age: '10m',
    });
    r.read(11.7);
    await r.clock.advance(30_000);
    r.read(12.01); // recovered: the hold ends
    r.read(11.7);
    await r.clock.advance(59_999);
    assert.deepEqual(r.acts, []);
    await r.clock.advance(1);
    assert.equal(r.acts.length, 1);
  });

  it('a reading older than max_age counts for nothing: a silent adapter cannot cut the unit off', async () => {
    const t = policy({ voltage: 'signals.obd.voltage', cutout: { below: 11.8, for: '1m' }, max_age: '30s' });
    t.read(11.0);
    await t.clock.advance(120_000);
    assert.deepEqual(t.acts, []);
    assert.equal(t.p.next(), undefined);
  });

  it('the clock set back a day: a reading from before it is stale, and a cut-out goes at its time from the next reading, not a day later', async () => {
    const t = policy({ voltage: 'signals.obd.voltage', cutout: { below: 11.8, for: '1m' }, max_age: '1h' });
    t.read(11.5);
    await t.clock.advance(30_000);
    t.clock.jump(-86_400_000);
    t.p.evaluate();
    assert.equal(t.p.next(), undefined, 'the reading from before counts for nothing');
    t.read(11.5);
    await t.clock.advance(59_999);
    assert.equal(t.acts.length, 0);
    await t.clock.advance(1);
    assert.deepEqual(
      t.acts.map(([a]) => a),
      ['shutdown'],
    );
  });

  it('the clock set back while a cut-out holds, a reading at once after: its hold starts again from then', async () => {
    const t = policy({ voltage: 'signals.obd.voltage', cutout: { below: 11.8, for: '1m' }, max_age: '1h' });
    t.read(11.5);
    await t.clock.advance(30_000);
    t.clock.jump(-86_400_000);
    t.read(11.5);
    await t.clock.advance(60_000);
    assert.deepEqual(
      t.acts.map(([a]) => a),
      ['shutdown'],
    );
  });

  it('hibernates below its voltage, held back by inhibit; the cut-out still goes first', async () => {
    const t = policy({
      voltage: 'signals.obd.voltage',
      max_age: '1h',
      hibernate: { below: '12.0V', for: '5m' },
      cutout: { below: '11.8V', for: '1m' },
    });
    t.world.inhibited = true;
    t.read(11.95);
    await t.clock.advance(300_000);
    assert.deepEqual([t.acts, t.held], [[], ['hibernate']]);
    t.read(11.5);
    assert.deepEqual(t.p.next()?.action, 'shutdown');
    await t.clock.advance(60_000);
    assert.deepEqual(
      t.acts.map(([a]) => a),
      ['shutdown'],
    );
  });
});
