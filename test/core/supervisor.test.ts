import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { backoffDelay } from '../../agent/core/backoff.js';
import { Restart } from '../../schemas/services.js';
import { agentFor, until } from '../helpers/agent.js';

describe('backoff', () => {
  it('grows by factor, is capped, and jitters within ±jitter', () => {
    const r = Restart.parse({ delay: '1s', max_delay: '10s', factor: 2, jitter: 0.2 });
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((n) => backoffDelay(r, n, () => 0.5)),
      [1000, 2000, 4000, 8000, 10000, 10000],
    );
    assert.equal(
      backoffDelay(r, 0, () => 0),
      800,
    );
    assert.equal(
      backoffDelay(r, 0, () => 1),
      1200,
    );
  });
});

/** A module service that throws on start, restarted 1, 2, 4, 8, 8 … s later. */
const FLAKY = `
  flaky:
    driver: module
    settings: { module: $FIXTURES/modules/flaky.mjs }
    restart: { delay: 1s, max_delay: 8s, factor: 2, jitter: 0 }`;

describe('supervisor', () => {
  it('trigger_events: false keeps a failing service out of the events, still restarting it', async () => {
    const { agent, clock, events } = agentFor(`
version: 1
services:${FLAKY}
    trigger_events: false
`);
    after(() => agent.stop());
    await agent.start();
    await clock.advance(10_000);
    assert.deepEqual(
      events.filter((e) => e.tag === 'system/service/flaky/failed'),
      [],
    );
    assert.ok(agent.status().services.flaky!.restarts >= 3, 'restarted all the same');
  });

  it('restarts a module service that throws on start with growing delays, and the others keep running', async () => {
    const { agent, clock, events } = agentFor(`
version: 1
services:${FLAKY}
  car:
    driver: sim-vehicle
    settings: { seed: 7 }
    workers:
      - { name: fast, interval: 1s, messages: [{ handler: query, args: { pid: SPEED }, returner: emit }] }
`);
    after(() => agent.stop());
    const t0 = clock.now();
    await agent.start();
    await clock.advance(40_000);
    const failed = events.filter((e) => e.tag === 'system/service/flaky/failed');
    assert.deepEqual(
      failed.slice(0, 6).map((e) => [e.ts - t0, e.data.restarts, e.data.retry_in]),
      [
        [0, 0, 1000],
        [1000, 1, 2000],
        [3000, 2, 4000],
        [7000, 3, 8000],
        [15000, 4, 8000],
        [23000, 5, 8000],
      ],
    );
    assert.equal(failed[0]!.data.reason, 'sensor not found on /dev/i2c-1');
    await until(() => agent.status().services.flaky!.state !== 'starting');
    const status = agent.status();
    assert.equal(status.services.flaky!.state, 'restarting');
    assert.equal(status.services.flaky!.lastError, 'sensor not found on /dev/i2c-1');
    assert.equal(status.services.car!.state, 'running');
    assert.ok(events.filter((e) => e.tag === 'vehicle/car/speed').length >= 39);
  });

  it('restarts a service whose driver reports a failure after start, with the service events in order', async () => {
    const { agent, clock, tags } = agentFor(`
version: 1
services:
  counter:
    driver: module
    settings: { module: $FIXTURES/modules/counter.mjs, step: 2 }
    restart: { delay: 2s, jitter: 0 }
`);
    after(() => agent.stop());
    await agent.start();
    await agent.call('counter', 'crash');
    await clock.advance(1000);
    assert.equal(agent.status().services.counter!.state, 'restarting');
    await clock.advance(1000);
    await until(() => agent.status().services.counter!.state !== 'starting');
    assert.equal(agent.status().services.counter!.state, 'running');
    assert.deepEqual(tags('system/service/'), [
      'system/service/counter/started',
      'system/service/counter/failed',
      'system/service/counter/started',
    ]);
    assert.deepEqual(tags('custom/'), ['custom/counter/ready', 'custom/counter/ready']);
    await agent.stop();
    assert.equal(tags('system/service/').at(-1), 'system/service/counter/stopped');
  });

  it('rejects module settings that the module’s own schema refuses, as a service failure', async () => {
    const { agent, events } = agentFor(`
version: 1
services:
  counter:
    driver: module
    settings: { module: $FIXTURES/modules/counter.mjs, step: -1 }
`);
    after(() => agent.stop());
    await agent.start();
    const failed = events.find((e) => e.tag === 'system/service/counter/failed');
    assert.match(String(failed?.data.reason), /settings rejected by .*counter\.mjs/);
  });
});
