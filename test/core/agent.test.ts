import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StateStore } from '../../agent/core/state-store.js';
import { agentFor } from '../helpers/agent.js';
import { tmpDir } from '../helpers/tmp.js';

describe('agent pipeline', () => {
  it('runs messages through service hooks, built-ins and module hooks; a failing message does not stop the next', async () => {
    const { agent, clock, events } = agentFor(`
version: 1
services:
  counter:
    driver: module
    settings: { module: $FIXTURES/modules/counter.mjs, step: 3 }
    hooks:
      - { name: big, kind: filter, use: $FIXTURES/modules/hooks.mjs#atLeast, args: { min: 12 } }
      - { name: hot, kind: trigger, use: threshold, args: { tag: custom/count/high, above: 20 } }
    workers:
      - name: w
        interval: 1s
        messages:
          - { handler: explode, returner: emit }
          - handler: count
            converter: $FIXTURES/modules/hooks.mjs#double
            trigger: hot
            filter: big
            returner: [signals, emit]
`);
    after(() => agent.stop());
    await agent.start();
    await clock.advance(4000);
    const counts = events.filter((e) => e.tag === 'vehicle/counter/count').map((e) => e.data.value);
    // count: 3, 6, 9, 12, 15 doubled = 6, 12, 18, 24, 30; the filter drops 6.
    assert.deepEqual(counts, [12, 18, 24, 30]);
    assert.deepEqual(
      events.filter((e) => e.tag === 'custom/count/high').map((e) => e.data.value),
      [24],
    );
    assert.equal(agent.signals.get('counter', 'count')?.value, 30);
    const [worker] = agent.status().services.counter!.workers;
    assert.equal(worker!.iterations, 5);
    assert.deepEqual(worker!.errors, [{ 'counter exploded': 5 }, {}]);
    assert.equal(events.filter((e) => e.tag === 'vehicle/counter/explode').length, 0);
  });

  it('leaves auto_start: false workers stopped until started, and controls workers by name', async () => {
    const { agent, clock, events } = agentFor(`
version: 1
services:
  car:
    driver: sim-vehicle
    settings: { seed: 1 }
    workers:
      - { name: manual, interval: 1s, auto_start: false, messages: [{ handler: vin, returner: emit }] }
`);
    after(() => agent.stop());
    await agent.start();
    await clock.advance(3000);
    assert.equal(events.filter((e) => e.tag === 'vehicle/car/vin').length, 0);
    assert.equal((await agent.worker('car', 'manual', 'start')).state, 'running');
    await clock.advance(2500);
    assert.equal(events.filter((e) => e.tag === 'vehicle/car/vin').length, 3);
    assert.equal((await agent.worker('car', 'manual', 'pause')).state, 'paused');
    await assert.rejects(agent.worker('car', 'nope', 'pause'), /service 'car' has no worker 'nope'/);
    await assert.rejects(agent.call('ghost', 'vin'), /no service 'ghost'/);
    assert.deepEqual(await agent.call('car', 'vin'), {
      type: 'vin',
      value: 'WVWZZZ1KZ8W000042',
      ts: clock.now(),
    });
  });

  it('emits system/agent/started after the services, and stopping/stopped on stop', async () => {
    const { agent, tags } = agentFor(`
version: 1
services:
  car: { driver: sim-vehicle, settings: {} }
`);
    await agent.start();
    await agent.stop();
    assert.deepEqual(tags('system/'), [
      'system/service/car/started',
      'system/agent/started',
      'system/agent/stopping',
      'system/service/car/stopped',
    ]);
  });

  it("a service's hooks leave nothing pending once it stops: a trigger's hold ends with it", async () => {
    const { agent, clock, tags } = agentFor(`
version: 1
services:
  car:
    driver: sim-vehicle
    settings: { seed: 1 }
    hooks: [{ name: battery, kind: trigger, use: battery_state, args: { hold: 3s } }]
    workers: [{ name: volts, interval: 10s, messages: [{ handler: voltage, trigger: battery, returner: emit }] }]
`);
    await agent.start();
    await clock.advance(1000);
    // A reading went through the trigger, whose state has not held for 3 s yet.
    assert.equal(tags('vehicle/car/voltage').length, 1);
    assert.deepEqual(tags('vehicle/battery/'), []);
    await agent.stop();
    await clock.advance(5000);
    assert.deepEqual(tags('vehicle/battery/'), []);
    assert.equal(tags().at(-1), 'system/service/car/stopped');
  });

  it('a stop asked for during the start waits for it: everything started is stopped, in order', async () => {
    const { agent, tags } = agentFor('version: 1\n');
    let finish!: () => void;
    const stopped: string[] = [];
    agent.use({
      name: 'slow',
      start: () => new Promise<void>((r) => (finish = r)),
      stop: async () => void stopped.push('slow'),
    });
    agent.use({ name: 'after', start: async () => {}, stop: async () => void stopped.push('after') });
    const starting = agent.start();
    const stopping = agent.stop();
    await new Promise(setImmediate);
    assert.deepEqual(tags('system/agent/'), [], 'the stop began before the start ended');
    finish();
    await Promise.all([starting, stopping]);
    assert.deepEqual(tags('system/agent/'), ['system/agent/started', 'system/agent/stopping']);
    assert.deepEqual(stopped, ['after', 'slow']);
  });

  it('runs a rules-only config with no services', async () => {
    const { agent, tags } = agentFor('version: 1\n');
    await agent.start();
    await agent.stop();
    assert.deepEqual(tags(), ['system/agent/started', 'system/agent/stopping']);
  });
});

describe('state store', () => {
  it('persists values across reopening', () => {
    const dir = tmpDir();
    const a = new StateStore(dir);
    a.set('trip', { km: 12.5 });
    a.set('gone', 1);
    a.delete('gone');
    a.close();
    const b = new StateStore(dir);
    assert.deepEqual({ ...b.tree }, { trip: { km: 12.5 } });
    b.close();
  });
});
