/**
 * A unit without a battery-backed clock boots at the time it saved at its last shutdown and is set
 * right later: what it wrote before that is aged from when it was written, not from its stamp.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { type BootClock, ClockSteps } from '../../agent/storage/clock-steps.js';
import { Housekeeper } from '../../agent/storage/housekeeper.js';
import { Storage } from '../../schemas/storage.js';
import { agentFor } from '../helpers/agent.js';
import { tmpDir } from '../helpers/tmp.js';

const S = 1000;
const DAY = 86_400_000;
/** The time the unit saved at its last shutdown, and boots at. */
const SAVED = Date.UTC(2026, 5, 1, 8, 0, 0);

/** The kernel's clocks as a test sets them: a boot that began at `SAVED` on its wall clock. */
function kernel(id = 'boot-1') {
  const k = { id, wall: SAVED, uptime: 0 };
  const clock: BootClock = { id: () => k.id, wall: () => k.wall, uptime: () => k.uptime };
  /** Time passes (awake or suspended: both clocks move). */
  const pass = (ms: number) => {
    k.wall += ms;
    k.uptime += ms;
  };
  /** The wall clock set (a time server heard), the uptime as it was. */
  const step = (ms: number) => {
    k.wall += ms;
  };
  return { clock, pass, step, k };
}

const failed = () => assert.fail('no write should fail');

describe('the wall clock stepped forward in this boot', () => {
  it('a time stamped before the step moves by it; a time before the boot, or after the step, stays', async () => {
    const file = path.join(tmpDir(), 'clock-steps.json');
    const { clock, pass, step } = kernel();
    pass(10 * S);
    const steps = new ClockSteps(file, failed, clock);
    await steps.observe();
    pass(30 * S);
    step(14 * DAY); // parked two weeks; the modem's time server heard 40 s after the boot
    pass(10 * 60 * S);
    await steps.observe();
    assert.equal(steps.written(SAVED + 20 * S), SAVED + 14 * DAY + 20 * S, 'written 20 s after the boot');
    assert.equal(steps.written(SAVED - DAY), SAVED - DAY, 'written before the boot');
    const now = SAVED + 14 * DAY + 5 * 60 * S;
    assert.equal(steps.written(now), now, 'written after the step');
    // An agent started again in the same boot knows the step; a new boot begins afresh.
    assert.equal(new ClockSteps(file, failed, clock).written(SAVED + 20 * S), SAVED + 14 * DAY + 20 * S);
    assert.equal(
      new ClockSteps(file, failed, kernel('boot-2').clock).written(SAVED + 20 * S),
      SAVED + 20 * S,
    );
  });

  it('is not fooled by a suspend or by drift: only a move of the boot on the wall clock is a step', async () => {
    const file = path.join(tmpDir(), 'clock-steps.json');
    const { clock, pass, step } = kernel();
    const steps = new ClockSteps(file, failed, clock);
    await steps.observe();
    pass(3 * DAY); // suspended: the time since boot counts it
    step(2 * 60 * S); // slewed and stepped by two minutes
    await steps.observe();
    assert.equal(steps.written(SAVED + S), SAVED + S);
  });

  it('a write that fails is reported, and the step still counts for this run', async () => {
    const dir = tmpDir();
    const { clock, pass, step } = kernel();
    const reported: string[] = [];
    const steps = new ClockSteps(path.join(dir, 'gone', 'clock-steps.json'), (f) => reported.push(f), clock);
    await steps.observe();
    step(DAY);
    pass(S);
    await steps.observe();
    assert.equal(reported.length, 2);
    assert.equal(steps.written(SAVED + 1), SAVED + DAY + 1);
  });
});

describe('retention after the clock was set', () => {
  it("keeps a parked car's first minute of driving; what is as old as it looks still goes", async () => {
    const dataDir = tmpDir();
    const { agent, clock: agentClock } = agentFor(`version: 1\nunit: { data_dir: ${dataDir} }\n`);
    const { clock, pass, step, k } = kernel();
    const put = (name: string, stamped: number) => {
      const p = path.join(dataDir, 'drives', name);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, 'x');
      utimesSync(p, stamped / 1000, stamped / 1000);
      return p;
    };
    const before = put('last-week.jsonl', SAVED - 6 * DAY); // recorded before the car was parked
    pass(10 * S);
    const keeper = new Housekeeper(
      agent.context(Storage.parse({ keep: { drives: { max_age: '7d' } } })),
      clock,
    );
    after(() => keeper.stop());
    agentClock.jump(k.wall - agentClock.now());
    await keeper.pass();
    assert.ok(existsSync(before), 'aged 6 days by the clock as it boots');
    const first = put('first-minute.jsonl', k.wall + 20 * S); // recorded before the clock is set
    pass(40 * S);
    step(14 * DAY);
    agentClock.jump(k.wall - agentClock.now());
    await keeper.pass();
    assert.ok(existsSync(first), 'aged 40 s, not 14 days');
    assert.ok(!existsSync(before), 'aged 20 days: written before this boot, as old as it looks');
  });
});
