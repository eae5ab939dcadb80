import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bus, type Event } from '../../agent/core/bus.js';
import { FakeClock } from '../../agent/core/clock.js';
import { ErrorReports } from '../../agent/core/error-reports.js';
import { silentLogger } from '../../agent/core/logger.js';
import type { Pipeline } from '../../agent/core/pipeline.js';
import type { HandlerFn, Result } from '../../agent/core/types.js';
import { Worker } from '../../agent/core/worker.js';
import { Worker as WorkerSchema } from '../../schemas/services.js';

function pipeline(handler: HandlerFn, returned: Result[]): Pipeline {
  return {
    handlerName: 'h',
    timeout: 10_000,
    handler,
    args: {},
    converters: [],
    triggers: [],
    filters: [],
    enrichers: [],
    returners: [(r) => void returned.push(r)],
  };
}

function setup(def: Record<string, unknown>, handlers: HandlerFn[]) {
  const clock = new FakeClock(Date.UTC(2026, 0, 5, 8, 0, 0));
  const bus = new Bus(clock);
  const events: Event[] = [];
  bus.on('system/#', (e) => events.push(e));
  const returned: Result[] = [];
  const w = WorkerSchema.parse({ name: 'w', messages: handlers.map(() => ({ handler: 'h' })), ...def });
  const worker = new Worker(
    'svc',
    w,
    handlers.map((h) => pipeline(h, returned)),
    clock,
    bus,
    new ErrorReports(clock, silentLogger),
    'UTC',
  );
  return { clock, events, returned, worker };
}

const reading = (value: unknown) => async () => ({ type: 't', value, ts: 0 });

describe('worker scheduling', () => {
  it('runs on its interval after its delay, and counts iterations', async () => {
    const runs: number[] = [];
    const { clock, worker } = setup({ interval: '1s', delay: '500ms' }, [
      async () => {
        runs.push(clock.now());
      },
    ]);
    const t0 = clock.now();
    worker.start();
    await clock.advance(3600);
    assert.deepEqual(
      runs.map((t) => t - t0),
      [500, 1500, 2500, 3500],
    );
    assert.equal(worker.status().iterations, 4);
  });

  it('runs on cron boundaries', async () => {
    const runs: number[] = [];
    const { clock, worker } = setup({ cron: '*/15 * * * * *' }, [
      async () => {
        runs.push(new Date(clock.now()).getUTCSeconds());
      },
    ]);
    worker.start();
    await clock.advance(60_000);
    assert.deepEqual(runs, [15, 30, 45, 0]);
  });

  it('stops after `loop` iterations and reports completed', async () => {
    const w = setup({ interval: '1s', loop: 3 }, [reading(1)]);
    w.worker.start();
    await w.clock.advance(10_000);
    assert.equal(w.worker.status().state, 'completed');
    assert.equal(w.worker.status().iterations, 3);
    assert.equal(w.returned.length, 3);
    assert.deepEqual(
      w.events.map((e) => [e.tag, e.data.iterations]),
      [['system/worker/svc/w/completed', 3]],
    );
  });
});

describe('worker errors', () => {
  it('an error in message 1 does not stop message 2; errors are counted per message', async () => {
    const w = setup({ interval: '1s' }, [
      async () => {
        throw new Error('NO DATA');
      },
      async () => ({ type: 'speed', value: 42, ts: 0 }),
    ]);
    w.worker.start();
    await w.clock.advance(2500);
    assert.equal(w.returned.length, 3);
    assert.deepEqual(w.worker.status().errors, [{ 'NO DATA': 3 }, {}]);
    assert.equal(w.worker.status().state, 'running');
  });

  it('transactional: the first error skips the rest of the iteration', async () => {
    const w = setup({ interval: '1s', transactional: true }, [
      async () => {
        throw new Error('bad');
      },
      async () => ({ type: 'x', value: 1, ts: 0 }),
    ]);
    w.worker.start();
    await w.clock.advance(2500);
    assert.equal(w.returned.length, 0);
    assert.equal(w.worker.status().iterations, 3);
  });

  it('on_error: stop fails the worker and reports why', async () => {
    const w = setup({ interval: '1s', on_error: 'stop' }, [
      async () => {
        throw new Error('adapter gone');
      },
    ]);
    w.worker.start();
    await w.clock.advance(5000);
    assert.equal(w.worker.status().state, 'failed');
    assert.equal(w.worker.status().iterations, 1);
    assert.deepEqual(
      w.events.map((e) => [e.tag, e.data.reason]),
      [['system/worker/svc/w/failed', 'message 1 (h): adapter gone']],
    );
  });

  it('kill_upon_success: completes after the first iteration that produced a result without error', async () => {
    let n = 0;
    const w = setup({ interval: '1s', kill_upon_success: true }, [
      async () => {
        n++;
        if (n < 3) throw new Error('not yet');
        return { type: 'vin', value: 'X', ts: 0 };
      },
    ]);
    w.worker.start();
    await w.clock.advance(10_000);
    assert.equal(w.worker.status().state, 'completed');
    assert.equal(n, 3);
  });
});

describe('worker control', () => {
  it('pause holds it, resume waits `delay` then continues, kill ends it, start begins anew', async () => {
    let runs = 0;
    const w = setup({ interval: '1s', delay: '200ms' }, [
      async () => {
        runs++;
      },
    ]);
    w.worker.start();
    await w.clock.advance(1300); // runs at 200, 1200
    assert.equal(runs, 2);
    w.worker.pause();
    await w.clock.advance(5000);
    assert.equal(runs, 2);
    assert.equal(w.worker.status().state, 'paused');
    w.worker.resume();
    await w.clock.advance(199);
    assert.equal(runs, 2);
    await w.clock.advance(1);
    assert.equal(runs, 3);
    await w.worker.kill();
    await w.clock.advance(5000);
    assert.equal(runs, 3);
    assert.equal(w.worker.status().state, 'killed');
    w.worker.start();
    await w.clock.advance(200);
    assert.equal(runs, 4);
    assert.equal(w.worker.status().iterations, 1);
  });

  it('never overlaps iterations: a slow message delays the next run', async () => {
    const starts: number[] = [];
    const w = setup({ interval: '1s' }, [
      () =>
        new Promise((resolve) => {
          starts.push(w.clock.now());
          w.clock.setTimeout(() => resolve(undefined), 2500);
        }),
    ]);
    const t0 = w.clock.now();
    w.worker.start();
    await w.clock.advance(6000);
    assert.deepEqual(
      starts.map((t) => t - t0),
      [0, 2500, 5000],
    );
  });
});
