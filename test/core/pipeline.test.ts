import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../agent/core/clock.js';
import { type Pipeline, runPipeline } from '../../agent/core/pipeline.js';
import type { HandlerError, Result } from '../../agent/core/types.js';

const r = (type: string, value: unknown): Result => ({ type, value, ts: 1 });

function pipeline(over: Partial<Pipeline>): Pipeline {
  return {
    handlerName: 'h',
    timeout: 10_000,
    handler: async () => r('x', 1),
    args: {},
    converters: [],
    triggers: [],
    filters: [],
    enrichers: [],
    returners: [],
    ...over,
  };
}

describe('message pipeline', () => {
  it('runs handler → converters (in order) → triggers → filters → enrichers → returners', async () => {
    const order: string[] = [];
    const got: Result[] = [];
    const out = await runPipeline(
      pipeline({
        handler: async (args) => {
          order.push(`handler ${JSON.stringify(args)}`);
          return [r('a', 1), r('b', 2)];
        },
        args: { pid: 'RPM' },
        converters: [
          (x) => {
            order.push(`double ${x.type}`);
            return { ...x, value: (x.value as number) * 2 };
          },
          // A converter may split a result or drop it.
          (x) => (x.type === 'a' ? [x, { ...x, type: 'a2' }] : undefined),
        ],
        triggers: [(x) => void order.push(`trigger ${(x as Result).type}`)],
        filters: [() => true, (x) => x.type !== 'a2'],
        enrichers: [(x) => ({ ...x, unit: 'u' })],
        returners: [(x) => void got.push(x)],
      }),
      new FakeClock(1),
    );
    assert.deepEqual(order, ['handler {"pid":"RPM"}', 'double a', 'double b', 'trigger a', 'trigger a2']);
    assert.deepEqual(got, [{ type: 'a', value: 2, ts: 1, unit: 'u' }]);
    assert.deepEqual(out, got);
  });

  it('shows a handler error to the triggers and then fails the message', async () => {
    const seen: (Result | HandlerError)[] = [];
    await assert.rejects(
      runPipeline(
        pipeline({
          handler: async () => {
            throw new Error('NO DATA');
          },
          triggers: [(x) => void seen.push(x)],
        }),
        new FakeClock(42),
      ),
      /NO DATA/,
    );
    assert.deepEqual(seen, [{ error: 'NO DATA', ts: 42 }]);
  });

  it('runs every returner even when one fails, then fails with the first error', async () => {
    const got: string[] = [];
    await assert.rejects(
      runPipeline(
        pipeline({
          returners: [
            () => {
              throw new Error('disk full');
            },
            (x) => void got.push(x.type),
          ],
        }),
        new FakeClock(1),
      ),
      /disk full/,
    );
    assert.deepEqual(got, ['x']);
  });

  it('a handler that returns nothing produces nothing', async () => {
    let returned = 0;
    const out = await runPipeline(
      pipeline({ handler: async () => undefined, returners: [() => void returned++] }),
      new FakeClock(1),
    );
    assert.deepEqual([out, returned], [[], 0]);
  });
});
