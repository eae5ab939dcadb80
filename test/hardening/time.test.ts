import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { realClock } from '../../agent/core/clock.js';

const DAY = 86_400_000;

describe('long durations on the real clock', () => {
  it('a timer of 2^31 ms or more fires on time, not at once', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    try {
      const fired: number[] = [];
      for (const days of [25, 30, 40]) realClock.setTimeout(() => fired.push(days), days * DAY);
      mock.timers.tick(1);
      assert.deepEqual(fired, []);
      mock.timers.tick(25 * DAY - 2);
      assert.deepEqual(fired, []);
      mock.timers.tick(1);
      assert.deepEqual(fired, [25]);
      mock.timers.tick(5 * DAY);
      assert.deepEqual(fired, [25, 30]);
      mock.timers.tick(10 * DAY);
      assert.deepEqual(fired, [25, 30, 40]);
    } finally {
      mock.timers.reset();
    }
  });

  it('a long timer can be cancelled at any stage of its chain', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    try {
      let fired = false;
      const t = realClock.setTimeout(() => {
        fired = true;
      }, 60 * DAY);
      mock.timers.tick(30 * DAY);
      t.cancel();
      mock.timers.tick(40 * DAY);
      assert.equal(fired, false);
    } finally {
      mock.timers.reset();
    }
  });
});
