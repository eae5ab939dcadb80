/** The reactor's trace store: rings of 20 per rule in columns, runs detached and put back, what is rare kept beside. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TRACES_PER_RULE, TraceStore } from '../../agent/reactor/traces.js';

const ev = (i: number) => ({ tag: `vehicle/t${i}`, ts: 1000 + i });
/** A rule's ring, as a rule keeps it. */
const ring = (store: TraceStore) => ({ base: store.ringBase(), next: 0 });

describe('trace store', () => {
  it('keeps the last 20 of each rule, oldest first, rules apart', () => {
    const store = new TraceStore();
    const a = ring(store);
    const b = ring(store);
    for (let i = 0; i < 25; i++) store.claim(a, i, ev(i), i % 2 === 0);
    store.claim(b, 99, ev(99), true);
    const kept = store.list(a, 'a');
    assert.equal(kept.length, TRACES_PER_RULE);
    assert.deepEqual(
      kept.map((t) => t.event.tag),
      Array.from({ length: 20 }, (_, i) => `vehicle/t${i + 5}`),
    );
    assert.deepEqual(kept.at(-1), {
      rule: 'a',
      ts: 24,
      event: { tag: 'vehicle/t24', ts: 1024 },
      condition: true,
      actions: [],
    });
    assert.deepEqual(store.last(a, 'a'), kept.at(-1));
    assert.deepEqual(
      store.list(b, 'b').map((t) => t.ts),
      [99],
    );
  });

  it('actions: two held in columns, a third or a failed one turns the slot into a list, in order', () => {
    const store = new TraceStore();
    const r = ring(store);
    const s = store.claim(r, 1, ev(1), true);
    store.action(s, 'emit', true, 0.5);
    store.action(s, 'log', true, 0.25);
    assert.deepEqual(store.trace(s, 'x').actions, [
      { action: 'emit', ok: true, ms: 0.5 },
      { action: 'log', ok: true, ms: 0.25 },
    ]);
    store.action(s, 'call', false, 3, 'boom', 'PITCREW_X');
    store.fail(s, 'boom', 'PITCREW_X');
    store.skip(s, 'mode');
    store.cancel(s);
    assert.deepEqual(store.trace(s, 'x'), {
      rule: 'x',
      ts: 1,
      event: { tag: 'vehicle/t1', ts: 1001 },
      condition: true,
      skipped: 'mode',
      cancelled: true,
      actions: [
        { action: 'emit', ok: true, ms: 0.5 },
        { action: 'log', ok: true, ms: 0.25 },
        { action: 'call', ok: false, ms: 3, error: 'boom', code: 'PITCREW_X' },
      ],
      error: 'boom',
      code: 'PITCREW_X',
    });
    // A dry action is listed too.
    const d = store.claim(r, 2, ev(2), true);
    store.action(d, 'emit', true, 0, undefined, undefined, true);
    assert.deepEqual(store.trace(d, 'x').actions, [{ action: 'emit', ok: true, ms: 0, dry: true }]);
    // The slot reused a ring later starts clean.
    for (let i = 0; i < TRACES_PER_RULE; i++) store.claim(r, 10 + i, ev(10 + i), false);
    assert.ok(store.list(r, 'x').every((t) => t.actions.length === 0 && t.error === undefined && !t.skipped));
  });

  it('a detached run leaves its slot empty and comes back as the newest, its own slot reused', () => {
    const store = new TraceStore();
    const r = ring(store);
    store.claim(r, 1, ev(1), true);
    const s = store.claim(r, 2, ev(2), true);
    store.action(s, 'wait', true, 1);
    const own = store.detach(s);
    assert.deepEqual(
      store.list(r, 'w').map((t) => t.ts),
      [1],
    );
    store.claim(r, 3, ev(3), false);
    store.action(own, 'emit', true, 2);
    const back = store.putBack(r, own);
    const kept = store.list(r, 'w');
    assert.deepEqual(
      kept.map((t) => [t.ts, t.actions.map((a) => a.action)]),
      [
        [1, []],
        [3, []],
        [2, ['wait', 'emit']],
      ],
    );
    assert.deepEqual(store.trace(back, 'w'), kept.at(-1));
    assert.equal(store.detach(store.claim(r, 4, ev(4), true)), own, 'the freed slot is taken again');
  });

  it('a released ring lists nothing and is given to the next rule empty; the columns grow past their first size', () => {
    const store = new TraceStore();
    const rings = Array.from({ length: 200 }, () => ring(store));
    rings.forEach((r, i) => {
      store.claim(r, i, ev(i), true);
    });
    assert.deepEqual(store.last(rings[150]!, 'r')?.ts, 150);
    const gone = rings[7]!;
    const base = gone.base;
    store.release(gone);
    assert.deepEqual(store.list(gone, 'r'), []);
    const fresh = ring(store);
    assert.equal(fresh.base, base);
    assert.deepEqual(store.list(fresh, 'r'), []);
    assert.deepEqual(
      rings.filter((r) => r !== gone).map((r) => store.list(r, 'r').length),
      Array(199).fill(1),
    );
  });
});
