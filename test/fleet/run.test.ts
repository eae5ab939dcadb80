/**
 * The rollout engine on a fake clock, units played by messages: waves judged on their acks or their
 * timeout, the abort threshold, rollback, probation, the deadline for units that never came; and
 * the wave arithmetic and topic parsing under it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { FakeClock } from '../../agent/core/clock.js';
import { RolloutRun, verdict } from '../../agent/fleet/rollout.js';
import { type Payload, RolloutStore } from '../../agent/fleet/store.js';
import { FleetTopics } from '../../agent/fleet/topics.js';
import { FleetView, summary } from '../../agent/fleet/view.js';
import { parseShare, tooMany, waveEnds } from '../../agent/fleet/waves.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const NEW: Payload = { kind: 'bundle', key: 7, envelope: 'v7' };
const BACK: Payload = { kind: 'bundle', key: 8, envelope: 'v8' };

/** A rollout of NEW to units u0…u(n-1) (the `online` ones online), its run, and what it pushed. */
function setup(
  n: number,
  waves: number[],
  opts: { online?: number[]; max?: string; rollback?: boolean } = {},
) {
  const clock = new FakeClock();
  const store = new RolloutStore(path.join(dir, `${Math.random()}.db`));
  const topics = new FleetTopics('fleet/+');
  const view = new FleetView(topics, () => clock.now());
  const ids = Array.from({ length: n }, (_, i) => `u${i}`);
  const r = store.create(
    {
      id: 'r1',
      created: clock.now(),
      prefix: 'fleet/+',
      payload: NEW,
      rollback: opts.rollback ? BACK : null,
      waves,
      maxFailures: parseShare(opts.max ?? '0', '--max-failures'),
      waveTimeout: 60_000,
      deadline: clock.now() + 3_600_000,
    },
    ids.map((id) => ({ id, prefix: `fleet/${id}` })),
  );
  const pushed: string[] = [];
  const lines: string[] = [];
  const run = new RolloutRun(
    store,
    r,
    { publish: async (topic, payload) => void pushed.push(`${topic} ${payload}`) },
    view,
    clock,
    (l) => lines.push(l),
  );
  const say = (unit: string, leaf: string, body: unknown) =>
    run.message(
      `fleet/${unit}/${leaf}`,
      Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
      false,
    );
  for (const i of opts.online ?? ids.map((_, i) => i)) say(`u${i}`, 'online', 'true');
  const states = () => Object.fromEntries(store.targets('r1').map((t) => [t.unit, t.state]));
  return { clock, store, run, pushed, lines, say, states };
}

/** Lets the run take its next step (a push follows a wave's start). */
const tick = () => new Promise((r) => setImmediate(r));

describe('fleet rollout engine', () => {
  it('a silent unit fails its wave at the timeout; over the threshold the rest is skipped and the rollback pushed', async () => {
    const f = setup(4, [2, 4], { rollback: true });
    const done = f.run.run();
    await tick();
    assert.deepEqual(f.pushed, ['fleet/u0/config v7', 'fleet/u1/config v7']);
    f.say('u0', 'ack', { version: 7, status: 'applied', errors: [] });
    await f.clock.advance(59_999);
    assert.equal(f.states().u1, 'sent', 'the wave waits its whole timeout');
    await f.clock.advance(1);
    await tick();
    assert.deepEqual(f.pushed.at(-1), 'fleet/u0/config v8', 'the unit that took it gets the rollback');
    f.say('u0', 'ack', { version: 8, status: 'applied', errors: [] });
    const end = await done;
    assert.equal(end.state, 'aborted');
    assert.deepEqual(f.states(), { u0: 'rolled_back', u1: 'failed', u2: 'skipped', u3: 'skipped' });
    assert.ok(!f.pushed.some((p) => p.startsWith('fleet/u2') || p.startsWith('fleet/u3')), 'untouched');
  });

  it('a unit on probation counts once healthy, and a revert after applied is a failure', async () => {
    const f = setup(3, [3], { max: '50%' });
    const done = f.run.run();
    await tick();
    f.say('u0', 'ack', { version: 7, status: 'applied', errors: [], probation: 30_000 });
    f.say('u1', 'ack', { version: 7, status: 'applied', errors: [], probation: 30_000 });
    f.say('u2', 'ack', { version: 7, status: 'applied', errors: [], probation: 30_000 });
    assert.deepEqual(f.states(), { u0: 'sent', u1: 'sent', u2: 'sent' });
    f.say('u0', 'ack', { version: 7, status: 'applied', errors: [], healthy: true });
    f.say('u1', 'ack', { version: 7, status: 'reverted', errors: ['a service failed'] });
    f.say('u2', 'ack', { version: 7, status: 'applied', errors: [], healthy: true });
    const end = await done;
    // One failure of three is within 50 %: the wave passes, but not every unit applied it.
    assert.deepEqual([end.state, f.states()], ['expired', { u0: 'applied', u1: 'failed', u2: 'applied' }]);
    assert.equal(f.store.targets('r1')[1]!.detail, 'reverted: a service failed');
  });

  it('an offline unit does not hold its wave; it is pushed when it comes online, or unreached at the deadline', async () => {
    const f = setup(3, [1, 3], { online: [0, 1] });
    const done = f.run.run();
    await tick();
    f.say('u0', 'ack', { version: 7, status: 'applied', errors: [] });
    await tick();
    f.say('u1', 'ack', { version: 7, status: 'applied', errors: [] });
    await tick();
    assert.match(f.lines.at(-1)!, /1 unit\(s\) not reached yet/);
    assert.equal(f.clock.now(), new FakeClock().now(), 'no wave waited for its timeout');
    f.say('u2', 'online', 'true');
    assert.equal(f.pushed.at(-1), 'fleet/u2/config v7');
    f.say('u2', 'online', 'false');
    await f.clock.advance(3_600_000);
    const end = await done;
    assert.deepEqual([end.state, f.states().u2], ['expired', 'unreached']);
  });

  it('a unit whose retained ack says it runs the payload already counts as applied', async () => {
    const f = setup(2, [2]);
    f.say('u1', 'ack', { version: 7, status: 'applied', errors: [] });
    const done = f.run.run();
    await tick();
    f.say('u0', 'ack', { version: 7, status: 'applied', errors: [] });
    assert.equal((await done).state, 'done');
  });
});

describe('acknowledgements, waves and topics', () => {
  it('verdict: by kind and number; probation waits; a refused desired status answers what was sent', () => {
    assert.deepEqual(verdict(NEW, { version: 6, status: 'applied' }), undefined);
    assert.deepEqual(verdict(NEW, { version: 7, status: 'rejected', errors: ['bad rule'] }), {
      fail: 'rejected: bad rule',
    });
    assert.deepEqual(verdict(NEW, { source: 'git', version: 7, status: 'applied' }), undefined);
    const d: Payload = { kind: 'desired', key: 12, envelope: '' };
    assert.deepEqual(verdict(d, { messageType: 'desiredStatusAck', sequence: 12, status: 'accepted' }), {
      ok: true,
    });
    assert.deepEqual(
      verdict(d, { messageType: 'desiredStatusAck', sequence: 11, status: 'accepted' }),
      undefined,
    );
    assert.deepEqual(
      verdict(d, { messageType: 'desiredStatusAck', status: 'rejected', reasons: ['key x is not trusted'] }),
      {
        fail: 'rejected: key x is not trusted',
      },
    );
  });

  it('waves are cumulative, rounded up, at least one unit more each; the threshold is a share of the wave', () => {
    assert.deepEqual(waveEnds('1%,10%,100%', 50), [1, 5, 50]);
    assert.deepEqual(waveEnds('1%,10%,100%', 1000), [10, 100, 1000]);
    assert.deepEqual(waveEnds('1%,10%,100%', 5), [1, 2, 5]);
    assert.deepEqual(waveEnds('2,50%', 6), [2, 3, 6], 'the last wave reaches every unit');
    assert.throws(() => waveEnds('50%,10%', 10), /cumulative/);
    assert.throws(() => parseShare('5 %', '--max-failures'), /percentage/);
    assert.equal(tooMany(1, 20, parseShare('5%', 'x')), false);
    assert.equal(tooMany(2, 20, parseShare('5%', 'x')), true);
    assert.equal(tooMany(1, 1, parseShare('5%', 'x')), true);
    assert.equal(tooMany(3, 100, parseShare('3', 'x')), false);
  });

  it('topics: the + parts are the unit id; other filters and other units are not its', () => {
    const t = new FleetTopics('fleet/+/cars/+');
    assert.deepEqual(t.unitOf('fleet/eu/cars/van-1/ack'), {
      id: 'eu/van-1',
      prefix: 'fleet/eu/cars/van-1',
      leaf: 'ack',
    });
    assert.equal(t.unitOf('fleet/eu/bikes/b-1/ack'), undefined);
    assert.equal(t.prefixOf('eu/van-2'), 'fleet/eu/cars/van-2');
    assert.throws(() => new FleetTopics('pitcrew/#'), /a \+ where each unit's id goes/);
  });
});

describe('what units send is not trusted to be well formed', () => {
  it('any status or ack a unit publishes is taken or ignored, never thrown, and `fleet status` still summarises it', async () => {
    const { run, say, states } = setup(3, [1]);
    const view = (run as unknown as { view: FleetView }).view;
    await tick();
    // Well formed at first, so deltas after it merge into something.
    say('u0', 'status', { isDeltaInfo: false, components: [{ id: 'a', status: 'installed' }] });
    const anything = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      // Shaped like an ack for the bundle being rolled out, with anything in its fields.
      fc.record({
        version: fc.constant(7),
        status: fc.jsonValue(),
        errors: fc.jsonValue(),
        probation: fc.jsonValue(),
      }),
      // Shaped like a status, with anything in its sections and items.
      fc.dictionary(
        fc.constantFrom('components', 'config', '__proto__', 'isDeltaInfo'),
        fc.jsonValue({ maxDepth: 3 }),
      ),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('u0', 'u1', 'u2'),
        fc.constantFrom('status', 'ack', 'online'),
        anything,
        (unit, leaf, body) => {
          say(unit, leaf, body);
          for (const u of view.units.values()) JSON.stringify(summary(u));
        },
      ),
      { numRuns: 500 },
    );
    assert.equal(Object.keys(states()).length, 3);
  });
});
