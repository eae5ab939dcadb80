import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bus, type Event, type Match } from '../../agent/core/bus.js';
import { FakeClock } from '../../agent/core/clock.js';

function recorder(bus: Bus, pattern: string) {
  const seen: [string, Match][] = [];
  bus.on(pattern, (e, m) => seen.push([e.tag, m]));
  return seen;
}

describe('bus', () => {
  it('builds events with the clock time and source', () => {
    const clock = new FakeClock(1000);
    const bus = new Bus(clock);
    const got: Event[] = [];
    bus.on('a/b', (e) => got.push(e));
    bus.emit('a/b', { x: 1 }, 'obd');
    // The event as it is written out (DESIGN §2); its cause rides along under a symbol key.
    assert.deepEqual(JSON.parse(JSON.stringify(got)), [
      { tag: 'a/b', data: { x: 1 }, ts: 1000, source: 'obd' },
    ]);
  });

  it('matches exact, + and # patterns with their captures', () => {
    const bus = new Bus();
    const exact = recorder(bus, 'vehicle/engine/running');
    const plus = recorder(bus, 'vehicle/+/running');
    const hash = recorder(bus, 'vehicle/#');
    const mixed = recorder(bus, '+/+/#');
    const all = recorder(bus, '#');
    bus.emit('vehicle/engine/running' as string);
    bus.emit('vehicle/battery/critical_level' as string);
    bus.emit('system/agent/started' as string);
    assert.deepEqual(exact, [['vehicle/engine/running', []]]);
    assert.deepEqual(plus, [['vehicle/engine/running', ['engine']]]);
    assert.deepEqual(hash, [
      ['vehicle/engine/running', ['engine/running']],
      ['vehicle/battery/critical_level', ['battery/critical_level']],
    ]);
    assert.deepEqual(mixed, [
      ['vehicle/engine/running', ['vehicle', 'engine', 'running']],
      ['vehicle/battery/critical_level', ['vehicle', 'battery', 'critical_level']],
      ['system/agent/started', ['system', 'agent', 'started']],
    ]);
    assert.equal(all.length, 3);
  });

  it('does not match a shorter or longer tag with + patterns', () => {
    const bus = new Bus();
    const seen = recorder(bus, 'a/+');
    bus.emit('a');
    bus.emit('a/b/c');
    bus.emit('a/b');
    assert.deepEqual(seen, [['a/b', ['b']]]);
  });

  it('matches re: patterns with their groups', () => {
    const bus = new Bus();
    const seen = recorder(bus, 're:^vehicle/(engine|battery)/(\\w+)$');
    bus.emit('vehicle/engine/stopped' as string);
    bus.emit('vehicle/position/fix' as string);
    assert.deepEqual(seen, [['vehicle/engine/stopped', ['engine', 'stopped']]]);
  });

  it('calls a handler object through its own method, beside plain listeners', () => {
    const bus = new Bus(new FakeClock(0));
    const calls: string[] = [];
    class Counter {
      constructor(readonly name: string) {}
      handle(e: Event, m: Match) {
        calls.push(`${this.name}:${e.tag}:${m.join(',')}`);
      }
    }
    bus.subscribe('a/+', new Counter('one'));
    bus.on('a/#', (e) => calls.push(`fn:${e.tag}`));
    const off = bus.subscribe('re:^a/(b)$', new Counter('two'));
    bus.emit('a/b');
    off();
    bus.emit('a/b');
    assert.deepEqual(calls.sort(), ['fn:a/b', 'fn:a/b', 'one:a/b:b', 'one:a/b:b', 'two:a/b:b']);
  });

  it('an event, its listeners and what they emit share one instant: one clock read per outside emit', () => {
    let reads = 0;
    const ticking = {
      now: () => 1000 + reads++,
      setTimeout: () => assert.fail('the bus sets no timers'),
    };
    const bus = new Bus(ticking);
    const seen: number[] = [];
    bus.on('a', (e) => {
      seen.push(e.ts, bus.now());
      bus.emit('b');
    });
    bus.on('b', (e) => seen.push(e.ts, bus.now()));
    bus.emit('a');
    bus.emit('a');
    assert.deepEqual(seen, [1000, 1000, 1000, 1000, 1001, 1001, 1001, 1001]);
    assert.equal(reads, 2);
  });

  it('unsubscribes', () => {
    const bus = new Bus();
    let n = 0;
    const off = bus.on('a/+', () => n++);
    const offRe = bus.on('re:^a', () => n++);
    bus.emit('a/b');
    off();
    offRe();
    bus.emit('a/b');
    assert.equal(n, 2);
  });

  it("finds a tag's listeners again after every subscribe and unsubscribe", () => {
    const bus = new Bus(new FakeClock(0));
    const calls: string[] = [];
    const listen = (pattern: string) => bus.on(pattern, (_e, m) => calls.push(`${pattern}:${m.join(',')}`));
    listen('a/b');
    bus.emit('a/b');
    const plus = listen('a/+');
    const re = listen('re:^a/(b)$');
    const hash = listen('#');
    bus.emit('a/b');
    plus();
    bus.emit('a/b');
    re();
    hash();
    bus.emit('a/b');
    assert.deepEqual(calls, [
      'a/b:',
      ...['#:a/b', 'a/b:', 'a/+:b', 're:^a/(b)$:b'],
      ...['#:a/b', 'a/b:', 're:^a/(b)$:b'],
      'a/b:',
    ]);
  });

  it('a listener removed during a dispatch is not called by it; one added is called from the next event', () => {
    const bus = new Bus(new FakeClock(0));
    const calls: string[] = [];
    let offLater = () => {};
    bus.on('a/b', () => {
      calls.push('first');
      offLater();
      bus.on('a/+', () => calls.push('added'));
    });
    offLater = bus.on('a/b', () => calls.push('later'));
    bus.emit('a/b');
    assert.deepEqual(calls, ['first']);
    calls.length = 0;
    offLater = () => {};
    bus.emit('a/b');
    assert.deepEqual(calls, ['first', 'added']);
  });

  it('hands listeners a match they cannot change under the next event', () => {
    const bus = new Bus(new FakeClock(0));
    const seen: Match[] = [];
    bus.on('a/+', (_e, m) => seen.push(m));
    bus.emit('a/b');
    assert.throws(() => (seen[0] as string[]).push('x'), TypeError);
    bus.emit('a/b');
    assert.deepEqual(seen, [['b'], ['b']]);
  });

  it('keeps dispatching when a listener throws, and reports it', () => {
    const errors: string[] = [];
    const bus = new Bus(undefined, (err, e) => errors.push(`${e.tag}: ${(err as Error).message}`));
    let after = 0;
    bus.on('x', () => {
      throw new Error('boom');
    });
    bus.on('x', () => after++);
    bus.emit('x');
    assert.equal(after, 1);
    assert.deepEqual(errors, ['x: boom']);
  });

  it('does not call listeners that do not match, however many there are', () => {
    const bus = new Bus();
    let wrong = 0;
    for (let i = 0; i < 1000; i++) bus.on(`other/${i}/+`, () => wrong++);
    const seen = recorder(bus, 'vehicle/+');
    bus.emit('vehicle/speed');
    assert.equal(wrong, 0);
    assert.equal(seen.length, 1);
  });

  it("checks the payload of the agent's own tags against the event map (a type error otherwise)", () => {
    const bus = new Bus();
    const seen: number[] = [];
    bus.on('system/agent/stalled', (e) => seen.push(e.data.ms));
    bus.emit('system/agent/stalled', { ms: 250 });
    // @ts-expect-error: system/agent/stalled carries {ms}, nothing else
    bus.emit('system/agent/stalled', { seconds: 1 });
    // @ts-expect-error: a service's started event says how often it restarted
    bus.emit('system/service/obd/started', { service: 'obd' });
    bus.emit('custom/anything', { free: 'form' });
    assert.deepEqual(seen, [250, undefined]);
  });
});
