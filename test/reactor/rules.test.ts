import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import pino from 'pino';
import { loadConfigSync } from '../../agent/config/load.js';
import { Bus } from '../../agent/core/bus.js';
import { FakeClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/logger.js';
import { SignalStore } from '../../agent/core/signals.js';
import { StateStore } from '../../agent/core/state-store.js';
import type { ReactorHost } from '../../agent/reactor/host.js';
import { Reactor } from '../../agent/reactor/reactor.js';
import { Rule } from '../../agent/reactor/schema.js';
import { Agent } from '../../agent/runtime/agent.js';
import { rulesAgent, until } from '../helpers/agent.js';
import { tmpDir, writeFiles } from '../helpers/tmp.js';

/** An agent with only these rules (and an optional car), started, on a fake clock. */
const rules = rulesAgent;

const only = (tags: string[], prefix: string) => tags.filter((t) => t.startsWith(prefix));

describe('rule matching', () => {
  it('exposes wildcard captures and regex groups as match, and templates keep types', async () => {
    const { agent, events } = await rules(`
- name: wild
  on: [vehicle/+/running, fleet/#]
  do: [{ emit: { tag: "out/wild", data: { match: "{{ match }}", first: "{{ match.0 }}", n: "{{ event.data.n }}", s: "n={{ event.data.n }}" } } }]
- name: re
  on: "re:^car/(\\\\w+)/(\\\\d+)$"
  do: [{ emit: { tag: "out/re", data: { groups: "{{ match }}" } } }]
`);
    agent.emit('vehicle/engine/running', { n: 5 });
    agent.emit('fleet/a/b/c', { n: 1 });
    agent.emit('car/speed/42');
    const out = events.filter((e) => e.tag.startsWith('out/')).map((e) => [e.tag, e.data]);
    assert.deepEqual(out, [
      ['out/wild', { match: ['engine'], first: 'engine', n: 5, s: 'n=5' }],
      ['out/wild', { match: ['a/b/c'], first: 'a/b/c', n: 1, s: 'n=1' }],
      ['out/re', { groups: ['speed', '42'] }],
    ]);
  });

  it('an event matching two patterns of one rule runs it once', async () => {
    const { agent, tags } = await rules(`
- name: twice
  on: [a/b, a/+]
  do: [{ emit: { tag: out/x } }]
`);
    agent.emit('a/b');
    assert.deepEqual(only(tags(), 'out/'), ['out/x']);
  });

  it('runs else when the condition is false, and traces the condition', async () => {
    const { agent, tags, traces } = await rules(`
- name: cond
  on: t
  when: { ">": [{ var: event.data.v }, 10] }
  do: [{ emit: { tag: out/high } }]
  else: [{ emit: { tag: out/low } }]
`);
    agent.emit('t', { v: 11 });
    agent.emit('t', { v: 3 });
    assert.deepEqual(only(tags(), 'out/'), ['out/high', 'out/low']);
    assert.deepEqual(
      traces.map((t) => [t.condition, t.actions.map((a) => a.action)]),
      [
        [true, ['emit']],
        [false, ['emit']],
      ],
    );
  });

  it('a disabled rule is traced as skipped and runs nothing', async () => {
    const { agent, tags, traces } = await rules(`
- name: off
  enabled: false
  on: t
  do: [{ emit: { tag: out/x } }]
`);
    agent.emit('t');
    assert.deepEqual(only(tags(), 'out/'), []);
    assert.equal(traces[0]!.skipped, 'disabled');
  });

  it('reads signals, state and unit in conditions; since and distance work on live data', async () => {
    const { agent, clock, tags } = await rules(`
- name: parked_long
  on: check
  when:
    and:
      - { "==": [{ var: signals.car.speed }, 0] }
      - { ">=": [{ since: signals.car.speed }, 60] }
      - { "<": [{ distance: [{ var: signals.car.location.lat }, { var: signals.car.location.lon }, 59.9139, 10.7522] }, 100] }
      - { "==": [{ var: unit.id }, demo-unit] }
  do: [{ emit: { tag: out/parked } }]
`);
    agent.signals.set('car', 'speed', 0, clock.now());
    agent.signals.set('car', 'location', { lat: 59.9139, lon: 10.7523 }, clock.now());
    agent.emit('check');
    await clock.advance(60_000);
    agent.signals.set('car', 'speed', 0, clock.now());
    agent.emit('check');
    assert.deepEqual(only(tags(), 'out/'), ['out/parked']);
  });
});

describe('for, throttle, debounce', () => {
  const overspeed = `
- name: overspeed
  on: speed
  when: { ">": [{ var: event.data.v }, 100] }
  for: 30s
  do: [{ emit: { tag: out/overspeed, data: { v: "{{ event.data.v }}" } } }]
`;

  it('for: fires once when held, with the event that started the hold; re-arms only after false', async () => {
    const { agent, clock, events, traces } = await rules(overspeed);
    agent.emit('speed', { v: 120 });
    await clock.advance(20_000);
    agent.emit('speed', { v: 130 });
    await clock.advance(9_999);
    assert.equal(events.filter((e) => e.tag === 'out/overspeed').length, 0);
    await clock.advance(1);
    agent.emit('speed', { v: 140 });
    await clock.advance(60_000);
    const fired = events.filter((e) => e.tag === 'out/overspeed');
    assert.deepEqual(
      fired.map((e) => e.data.v),
      [120],
    );
    const run = traces.find((t) => t.actions.length > 0)!;
    assert.equal(run.event.tag, 'speed');
    assert.equal(run.event.ts, fired[0]!.ts - 30_000);
    agent.emit('speed', { v: 90 });
    agent.emit('speed', { v: 150 });
    await clock.advance(30_000);
    assert.deepEqual(
      events.filter((e) => e.tag === 'out/overspeed').map((e) => e.data.v),
      [120, 150],
    );
  });

  it('for: an event that makes the condition false cancels the hold', async () => {
    const { agent, clock, tags } = await rules(overspeed);
    agent.emit('speed', { v: 120 });
    await clock.advance(29_000);
    agent.emit('speed', { v: 80 });
    await clock.advance(60_000);
    assert.deepEqual(only(tags(), 'out/'), []);
  });

  /** `overspeed` held for 20 s, its agent stopped, `between` done, and an agent started again on the same data. */
  async function heldAcrossRestart(between: (clock: FakeClock) => Promise<void> | void) {
    const dir = tmpDir();
    writeFiles(dir, {
      'c.yaml': `version: 1\nunit: { data_dir: var }\nreactor:\n  rules:\n${overspeed.replace(/^/gm, '    ')}`,
    });
    const { config } = loadConfigSync(path.join(dir, 'c.yaml'), {});
    const clock = new FakeClock();
    const first = new Agent(config, { clock });
    await first.start();
    first.emit('speed', { v: 120 });
    await clock.advance(20_000);
    await first.stop();
    await between(clock);
    const second = new Agent(config, { clock });
    const seen: string[] = [];
    second.bus.on('out/#', (e) => seen.push(`${e.tag}@${e.ts - clock.now()}`));
    await second.start();
    after(() => second.stop());
    assert.equal(second.reactor.list()[0]!.holding !== undefined, true);
    return { clock, seen };
  }

  it('for: a hold survives a restart of the agent', async () => {
    const { clock, seen } = await heldAcrossRestart((c) => c.advance(5_000));
    await clock.advance(4_999);
    assert.deepEqual(seen, []);
    await clock.advance(1);
    assert.deepEqual(seen, ['out/overspeed@0']);
  });

  it('for: a hold restored after the clock was set back waits its whole time again, not as long as the clock went back', async () => {
    const { clock, seen } = await heldAcrossRestart((c) => c.jump(-86_400_000));
    await clock.advance(29_999);
    assert.deepEqual(seen, []);
    await clock.advance(1);
    assert.deepEqual(seen, ['out/overspeed@0']);
  });

  it('throttle: after a run at t, the next may start at t + throttle', async () => {
    const { agent, clock, tags, traces } = await rules(`
- name: thr
  on: t
  throttle: 10s
  do: [{ emit: { tag: out/x } }]
`);
    agent.emit('t');
    await clock.advance(9_999);
    agent.emit('t');
    await clock.advance(1);
    agent.emit('t');
    assert.deepEqual(only(tags(), 'out/'), ['out/x', 'out/x']);
    assert.deepEqual(
      traces.map((t) => t.skipped ?? 'ran'),
      ['ran', 'throttle', 'ran'],
    );
  });

  it('debounce: runs once the events go quiet, with the last event', async () => {
    const { agent, clock, events } = await rules(`
- name: deb
  on: t
  debounce: 2s
  do: [{ emit: { tag: out/x, data: { n: "{{ event.data.n }}" } } }]
`);
    agent.emit('t', { n: 1 });
    await clock.advance(1_500);
    agent.emit('t', { n: 2 });
    await clock.advance(1_999);
    assert.equal(events.filter((e) => e.tag === 'out/x').length, 0);
    await clock.advance(1);
    assert.deepEqual(
      events
        .filter((e) => e.tag === 'out/x')
        .map((e) => [e.data.n, e.ts - events.find((x) => x.data.n === 2)!.ts]),
      [[2, 2000]],
    );
  });
});

describe('modes', () => {
  const slow = (mode: string, max = 10) => `
- name: slow
  on: t
  mode: ${mode}
  max: ${max}
  do:
    - emit: { tag: out/start, data: { n: "{{ event.data.n }}" } }
    - wait: 10s
    - emit: { tag: out/end, data: { n: "{{ event.data.n }}" } }
`;
  async function drive(mode: string, max?: number) {
    const h = await rules(slow(mode, max));
    for (const n of [1, 2, 3]) {
      h.agent.emit('t', { n });
      await h.clock.advance(1000);
    }
    await h.clock.advance(60_000);
    return {
      out: h.events.filter((e) => e.tag.startsWith('out/')).map((e) => `${e.tag.slice(4)}${e.data.n}`),
      skipped: h.traces.filter((t) => t.skipped).length,
    };
  }

  it('single drops a new run while one runs', async () => {
    assert.deepEqual(await drive('single'), { out: ['start1', 'end1'], skipped: 2 });
  });
  it('restart cancels the running one', async () => {
    assert.deepEqual(await drive('restart'), { out: ['start1', 'start2', 'start3', 'end3'], skipped: 0 });
  });
  it('queued runs them one after another, up to max', async () => {
    assert.deepEqual(await drive('queued'), {
      out: ['start1', 'end1', 'start2', 'end2', 'start3', 'end3'],
      skipped: 0,
    });
    assert.deepEqual(await drive('queued', 2), { out: ['start1', 'end1', 'start2', 'end2'], skipped: 1 });
  });
  it('parallel runs them side by side, up to max', async () => {
    assert.deepEqual(await drive('parallel'), {
      out: ['start1', 'start2', 'start3', 'end1', 'end2', 'end3'],
      skipped: 0,
    });
    assert.deepEqual(await drive('parallel', 2), { out: ['start1', 'start2', 'end1', 'end2'], skipped: 1 });
  });
});

describe('actions', () => {
  const car = `services:
  car:
    driver: sim-vehicle
    settings: { seed: 5 }
    workers: [{ name: w, interval: 1s, auto_start: false, messages: [{ handler: vin, returner: emit }] }]
`;

  it('call puts its result in result; state sets and deletes; worker controls a worker; log and stop', async () => {
    const { agent, clock, events, traces } = await rules(
      `
- name: all
  on: go
  do:
    - call: { service: car, handler: vin }
    - state: { set: vin, value: "{{ result.value }}" }
    - state: { set: seen, value: "{{ event.data }}" }
    - state: { delete: seen }
    - worker: { service: car, name: w, action: start }
    - log: { message: "vin {{ state.vin }}" }
    - if:
        when: { "==": [{ var: state.vin }, WVWZZZ1KZ8W000042] }
        then: [{ emit: { tag: out/known } }, { stop: done }]
    - emit: { tag: out/never }
`,
      car,
    );
    agent.emit('go');
    await clock.advance(1500);
    assert.equal(agent.state.get('vin'), 'WVWZZZ1KZ8W000042');
    assert.equal(agent.state.get('seen'), undefined);
    assert.ok(
      events.some((e) => e.tag === 'vehicle/car/vin'),
      'the worker was started',
    );
    assert.ok(events.some((e) => e.tag === 'out/known'));
    assert.ok(!events.some((e) => e.tag === 'out/never'));
    const t = traces.find((x) => x.rule === 'all')!;
    assert.deepEqual(
      t.actions.map((a) => [a.action, a.ok]),
      [
        ['call', true],
        ['state', true],
        ['state', true],
        ['state', true],
        ['worker', true],
        ['log', true],
        ['emit', true],
        ['stop', true],
        ['if', true],
      ],
    );
    assert.equal(t.error, undefined);
  });

  it('a failing action ends the run with the error in the trace; the agent and other rules go on', async () => {
    const { agent, clock, tags, traces } = await rules(`
- name: broken
  on: go
  do:
    - emit: { tag: "out/{{ event.data.missing }}" }
    - emit: { tag: out/after }
- name: bad_return
  on: go
  do: [{ return: { returner: signals, data: "{{ event.data }}" } }]
- name: fine
  on: go
  do: [{ emit: { tag: out/fine } }]
`);
    agent.emit('go');
    await clock.flush();
    assert.deepEqual(only(tags(), 'out/'), ['out/fine']);
    const broken = traces.find((t) => t.rule === 'broken')!;
    assert.deepEqual(JSON.parse(JSON.stringify(broken.actions)), [
      {
        action: 'emit',
        ok: false,
        ms: 0,
        code: 'PITCREW_TEMPLATE_MISSING',
        error: "'event.data.missing' is not set; check the template's path or guard the action with 'if'",
      },
    ]);
    assert.match(broken.error!, /^'event.data.missing' is not set/);
    assert.equal(broken.code, 'PITCREW_TEMPLATE_MISSING');
    // An action that fails after an await (no `type` for the returner) is traced the same way.
    assert.equal(traces.find((t) => t.rule === 'bad_return')!.code, 'PITCREW_RETURN_INVALID');
  });

  it('exec runs an argv without a shell, with a timeout', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out.txt');
    const { agent, traces, clock } = await rules(`
- name: touch
  on: go
  do:
    - exec: { command: [sh, -c, 'echo "$0" > "$1"', "{{ event.data.word }}; rm -rf /", ${JSON.stringify(out)}], timeout: 5s }
    - state: { set: code, value: "{{ result.code }}" }
- name: slow
  on: go
  do: [{ exec: { command: [sleep, "5"], timeout: 100ms } }]
`);
    agent.emit('go', { word: 'hello' });
    // Real child processes: wait (bounded) until the quick one is traced, then let the timeout fall due.
    await until(() => traces.some((t) => t.rule === 'touch'), 1_000_000);
    await clock.advance(100);
    await until(() => traces.some((t) => t.rule === 'slow'), 1_000_000);
    assert.equal(readFileSync(out, 'utf8'), 'hello; rm -rf /\n');
    assert.equal(agent.state.get('code'), 0);
    assert.match(traces.find((t) => t.rule === 'slow')!.error!, /sleep: timed out after 100 ms/);
  });

  it('return sends data to a returner', async () => {
    const { agent, clock } = await rules(`
- name: ret
  on: go
  do: [{ return: { returner: signals, data: { type: trip, value: "{{ event.data.km }}" } } }]
`);
    agent.emit('go', { km: 12 });
    await clock.flush();
    assert.equal(agent.signals.get('reactor', 'trip')?.value, 12);
  });

  it('return resolves its returner when the rule is compiled, not on each run', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'ret.mjs');
    const loads = Symbol.for('pitcrew.test.returner-loads');
    const g = globalThis as Record<symbol, number>;
    writeFiles(dir, {
      'ret.mjs': `globalThis[Symbol.for('pitcrew.test.returner-loads')] = (globalThis[Symbol.for('pitcrew.test.returner-loads')] ?? 0) + 1;
export function keep(r, args, ctx) { ctx.signals.set("mod", r.type, r.value, r.ts); }`,
    });
    const { agent, clock, traces } = await rules(`
- name: ret
  on: go
  do: [{ return: { returner: "${file}#keep", data: { type: "{{ event.data.t }}", value: "{{ event.data.km }}" } } }]
`);
    // Loaded as the rule was compiled, before any event: its file may go before the first run.
    await until(() => g[loads] === 1, 1_000_000);
    rmSync(file);
    for (const [t, km] of [
      ['a', 7],
      ['b', 8],
    ] as const) {
      const before = traces.length;
      agent.emit('go', { t, km });
      await clock.flush();
      await until(() => traces.length > before, 1_000_000);
      assert.equal(traces.at(-1)!.error, undefined);
      assert.equal(agent.signals.get('mod', t)?.value, km);
    }
    assert.equal(g[loads], 1);
  });
});

describe('the rule set', () => {
  it('system/agent/started runs its rules once', async () => {
    const { agent, tags } = await rules(`
- name: boot
  on: system/agent/started
  do: [{ emit: { tag: out/booted } }]
`);
    agent.emit('other');
    assert.deepEqual(only(tags(), 'out/'), ['out/booted']);
  });

  it('swapping rules keeps an unchanged rule’s for: timer and drops removed rules', async () => {
    const { agent, clock, tags } = await rules(`
- name: held
  on: t
  for: 10s
  do: [{ emit: { tag: out/held } }]
- name: gone
  on: t
  do: [{ emit: { tag: out/gone } }]
`);
    agent.emit('t');
    await clock.advance(5000);
    const held = agent.config.reactor.rules[0]!;
    agent.reactor.load([held, { ...held, name: 'new', for: 0, do: [{ emit: { tag: 'out/new' } }] }]);
    await clock.advance(5000);
    agent.emit('t');
    assert.deepEqual(only(tags(), 'out/'), ['out/gone', 'out/held', 'out/new']);
  });

  it('keeps the last 20 traces per rule', async () => {
    const { agent } = await rules(`
- name: many
  on: t
  do: [{ stop: null }]
`);
    for (let i = 0; i < 25; i++) agent.emit('t', { i });
    const traces = agent.reactor.traces('many');
    assert.equal(traces.length, 20);
    assert.throws(() => agent.reactor.traces('nope'), /no rule 'nope'/);
  });
});

/** A reactor's host with no agent around it: a bus, a state store, and `log`. */
function bareHost(log = silentLogger, clock = new FakeClock(0)): ReactorHost {
  const fail = () => Promise.reject(new Error('not in this test'));
  const state = new StateStore(tmpDir());
  after(() => state.close());
  return {
    bus: new Bus(clock),
    clock,
    log,
    signals: new SignalStore(),
    state,
    unit: { id: 'u', timezone: 'UTC' },
    call: fail,
    worker: fail,
    returner: fail,
    publish: fail,
    startUpdate: () => {
      throw new Error('not in this test');
    },
  };
}

describe("a rule's failures in the log", () => {
  it('the first failure of a rule is said at once, then at most once a minute per rule, with the count; a dry run says none', async () => {
    const lines: { level: number; rule: string; code: string; errors: number; msg: string }[] = [];
    const log = pino(
      { level: 'info', base: undefined, timestamp: false },
      { write: (l: string) => lines.push(JSON.parse(l)) },
    );
    const clock = new FakeClock(0);
    const set = [
      { name: 'broken', on: 'go', do: [{ emit: { tag: 'out/{{ event.data.missing }}' } }] },
      { name: 'fine', on: 'go', do: [{ emit: { tag: 'out/fine' } }] },
    ].map((r) => Rule.parse(r));
    const host = bareHost(log, clock);
    const reactor = new Reactor(host, set);
    await reactor.start();
    for (let i = 0; i < 5; i++) host.bus.emit('go', { n: i });
    assert.deepEqual(
      lines.map((l) => [l.level, l.rule, l.code, l.errors]),
      [[40, 'broken', 'PITCREW_TEMPLATE_MISSING', 1]],
    );
    assert.equal(
      lines[0]!.msg,
      "rule broken failed: 'event.data.missing' is not set; check the template's path or guard the action with 'if' (1 failure so far; its runs: pitcrew trace broken)",
    );
    clock.jump(59_999);
    host.bus.emit('go', { n: 5 });
    assert.equal(lines.length, 1, 'within the minute: counted, not said');
    clock.jump(1);
    host.bus.emit('go', { n: 6 });
    assert.deepEqual(
      lines.map((l) => l.errors),
      [1, 7],
    );
    assert.deepEqual(
      reactor.list().map((r) => [r.name, r.errors]),
      [
        ['broken', 7],
        ['fine', 0],
      ],
    );
    await reactor.stop();
    const dryHost = bareHost(log, clock);
    const dry = new Reactor(dryHost, set, { dry: true });
    await dry.start();
    dryHost.bus.emit('go', { n: 0 });
    assert.equal(dry.list()[0]!.errors, 1);
    assert.equal(lines.length, 2, 'a dry run prints its traces instead');
    await dry.stop();
  });
});

describe('what a rule keeps', () => {
  it('a rule of one pattern keeps no reference to the last event it handled', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const host = bareHost();
    const reactor = new Reactor(
      host,
      [
        { name: 'first', on: 'a/x', do: [{ emit: { tag: 'out/y' } }] },
        // The next event's rule: what a dispatch shares is then that event's.
        { name: 'next', on: 'b/x', do: [{ emit: { tag: 'out/z' } }] },
      ].map((r) => Rule.parse(r)),
    );
    await reactor.start();
    const first = new WeakRef(host.bus.emit('a/x', { payload: 'x'.repeat(1000) }));
    host.bus.emit('b/x', {});
    assert.deepEqual(
      reactor.list().map((r) => r.runs),
      [1, 1],
    );
    // A weak reference holds its target until the job that made it has ended.
    await new Promise(setImmediate);
    gc();
    assert.equal(first.deref(), undefined);
    await reactor.stop();
  });
});
