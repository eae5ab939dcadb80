import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthOf, LOOP_LATE_MS, loopTurn } from '../../agent/metrics/health.js';
import type { AgentStatus } from '../../agent/parts/context.js';

const status = (services: Record<string, { state: string; lastError?: string }>) =>
  ({ services }) as unknown as AgentStatus;

describe('health', () => {
  it('is ok while every service runs and the loop answers in time', () => {
    assert.deepEqual(healthOf(status({ a: { state: 'running' } }), 3.24), {
      ok: true,
      reasons: [],
      services: { a: 'running' },
      loop_ms: 3.2,
    });
    assert.equal(healthOf(status({}), 0).ok, true);
  });

  it('says each reason: a service not running, a late event loop', () => {
    const h = healthOf(
      status({
        a: { state: 'running' },
        b: { state: 'failed', lastError: 'no port' },
        c: { state: 'stopped' },
      }),
      LOOP_LATE_MS + 500,
    );
    assert.equal(h.ok, false);
    assert.deepEqual(h.reasons, [
      'service b is failed: no port',
      'service c is stopped',
      `the event loop answered after ${LOOP_LATE_MS + 500} ms`,
    ]);
  });

  it('measures a turn of the event loop, longer when it is blocked', async () => {
    const blocked = loopTurn();
    const until = performance.now() + 50;
    while (performance.now() < until);
    assert.ok((await blocked) >= 50);
  });
});
