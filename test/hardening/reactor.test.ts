import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Bus, type Event } from '../../agent/core/bus.js';
import type { Trace } from '../../agent/reactor/traces.js';
import { rulesAgent, until } from '../helpers/agent.js';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const rules = rulesAgent;

describe('rule loops', () => {
  it('a rule that emits what it listens to stops at the depth limit, says why, and the agent goes on', async () => {
    const { agent, events, traces } = await rules(`
- name: echo
  on: custom/ping
  do: [{ emit: { tag: custom/ping } }]
`);
    agent.emit('custom/ping');
    assert.equal(events.filter((e) => e.tag === 'custom/ping').length, 9);
    const failed = traces.filter((t) => t.error);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.code, 'PITCREW_REACTOR_LOOP');
    const loop = events.find((e) => e.tag === 'system/reactor/loop')!;
    assert.deepEqual(loop.data.chain, Array(9).fill('echo'));
    assert.equal(agent.status().events > 0, true);
  });

  it('also stops a loop through wait (each hop a second later) and through a returner', async () => {
    const { agent, clock, events } = await rules(`
- name: slow
  on: custom/slow
  mode: queued
  do: [{ wait: 1s }, { emit: { tag: custom/slow } }]
- name: via_return
  on: vehicle/reactor/trip
  mode: queued
  do: [{ return: { returner: emit, data: { type: trip, value: 1 } } }]
`);
    agent.emit('custom/slow');
    agent.emit('vehicle/reactor/trip');
    await until(() => events.filter((e) => e.tag === 'vehicle/reactor/trip').length >= 9);
    for (let i = 0; i < 20; i++) await clock.advance(1000);
    assert.equal(events.filter((e) => e.tag === 'custom/slow').length, 9);
    assert.equal(events.filter((e) => e.tag === 'vehicle/reactor/trip').length, 9);
    assert.deepEqual(
      events.filter((e) => e.tag === 'system/reactor/loop').map((e) => e.data.rule),
      ['via_return', 'slow'],
    );
  });

  it('a replay of a looping rule ends, with the same limit', () => {
    const dir = tmpDir();
    const config = path.join(dir, 'loop.yaml');
    writeFileSync(
      config,
      'version: 1\nreactor:\n  rules:\n    - { name: slow, on: custom/slow, mode: queued, do: [{ wait: 1s }, { emit: { tag: custom/slow } }] }\n',
    );
    const events = path.join(dir, 'events.jsonl');
    writeFileSync(events, `${JSON.stringify({ tag: 'custom/slow', data: {}, ts: 1_000 })}\n`);
    const r = runCli(['replay', '-c', config, events]);
    assert.equal(r.code, 0, r.stderr);
    const traces = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Trace);
    assert.equal(traces.length, 9);
    // A dry run does not wait: the chain unwinds innermost first.
    assert.deepEqual(
      traces.map((t) => t.code ?? 'ok').sort(),
      [...Array(8).fill('ok'), 'PITCREW_REACTOR_LOOP'].sort(),
    );
  });
});

describe('conditions, runs and exec', () => {
  it('compiles every condition the same way: since in an if action, the unit time zone in a logic filter', async () => {
    const { agent, clock, events } = await rules(
      `
- name: idle
  on: custom/check
  do:
    - if:
        when: { ">=": [{ since: signals.car.speed }, 60] }
        then: [{ emit: { tag: custom/idle } }]
        else: [{ emit: { tag: custom/busy } }]
`,
      `unit: { timezone: Asia/Tokyo }
services:
  car:
    driver: sim-vehicle
    settings: { cycle: idle }
    workers:
      - name: w
        interval: 10s
        messages:
          - handler: query
            args: { pid: SPEED }
            filter: night
            returner: [signals, emit]
    hooks:
      # 08:00 UTC is 17:00 in Tokyo: inside this slot only when the filter uses the unit's zone.
      - { name: night, kind: filter, use: logic, args: { when: { in_timetable: [[{ day_of_week: [1,2,3,4,5,6,7], time_slots: [{ start: "16:00", end: "18:00" }] }]] } } }
`,
    );
    await clock.advance(0);
    assert.equal(events.filter((e) => e.tag === 'vehicle/car/speed').length, 1);
    await clock.advance(70_000);
    agent.emit('custom/check');
    assert.deepEqual(
      events.filter((e) => e.tag === 'custom/idle' || e.tag === 'custom/busy').map((e) => e.tag),
      ['custom/idle'],
    );
  });

  it('marks a run cut short by mode restart as cancelled', async () => {
    const { agent, clock, traces } = await rules(`
- name: again
  on: custom/go
  mode: restart
  do: [{ wait: 10s }, { emit: { tag: custom/done } }]
`);
    agent.emit('custom/go');
    await clock.advance(1000);
    agent.emit('custom/go');
    await clock.advance(11_000);
    const runs = traces.filter((t) => t.rule === 'again');
    assert.deepEqual(
      runs.map((t) => [t.cancelled ?? false, t.actions.map((a) => `${a.action}:${a.ok}`)]),
      [
        [true, ['wait:false']],
        [false, ['wait:true', 'emit:true']],
      ],
    );
  });

  it('a call whose handler never returns ends at its timeout, so a mode: single rule runs again', async () => {
    const { agent, clock, traces } = await rules(
      `
- name: ask
  on: custom/ask
  mode: single
  do: [{ call: { service: m, handler: never, timeout: 2s } }]
`,
      'services:\n  m: { driver: module, settings: { module: $FIXTURES/modules/rough.mjs } }\n',
    );
    await until(() => agent.status().services.m?.state === 'running');
    agent.emit('custom/ask');
    await clock.advance(2000);
    await until(() => traces.some((t) => t.rule === 'ask' && t.actions.length > 0));
    agent.emit('custom/ask');
    await clock.advance(2000);
    await until(() => traces.filter((t) => t.rule === 'ask' && t.actions.length > 0).length === 2);
    const runs = traces.filter((t) => t.rule === 'ask');
    assert.deepEqual(
      runs.map((t) => [t.skipped ?? null, t.actions.map((a) => `${a.action}:${a.ok}:${a.error ?? ''}`)]),
      [
        [
          null,
          [
            "call:false:message 'never' did not finish within 2000 ms (a step never settled; raise the message's 'timeout' if it needs longer)",
          ],
        ],
        [
          null,
          [
            "call:false:message 'never' did not finish within 2000 ms (a step never settled; raise the message's 'timeout' if it needs longer)",
          ],
        ],
      ],
    );
  });

  it('exec: a child that ignores SIGTERM is killed after the grace period', async () => {
    // The child says when it ignores SIGTERM: the timeout's signal must not reach it before.
    const ready = path.join(tmpDir(), 'ignoring');
    const { agent, clock, traces } = await rules(`
- name: stubborn
  on: custom/go
  do: [{ exec: { command: [sh, -c, 'trap "" TERM; : > ${ready}; while :; do sleep 0.05; done'], timeout: 1s } }]
`);
    agent.emit('custom/go');
    await waitFor(() => existsSync(ready), 'the child ignoring SIGTERM');
    await clock.advance(1000);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(traces.length, 0, 'still running after SIGTERM');
    await clock.advance(2000);
    await until(() => traces.length === 1, 1_000_000);
    assert.equal(traces[0]!.code, 'PITCREW_EXEC_TIMEOUT');
  });

  it('exec: the program is written out, never a template', () => {
    const dir = tmpDir();
    const config = path.join(dir, 'c.yaml');
    writeFileSync(
      config,
      'version: 1\nreactor:\n  rules:\n    - { name: x, on: a, do: [{ exec: { command: ["{{ event.data.cmd }}", "-x"] } }] }\n',
    );
    const r = runCli(['validate', '-c', config]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /c\.yaml:4:50 reactor\.rules\[0\]\.do\[0\]\.exec\.command\[0\]: the program \(command\[0\]\) must be written out/,
    );
  });
});

describe('re: patterns', () => {
  it('refuses a pattern that can backtrack catastrophically, at load', () => {
    const dir = tmpDir();
    const config = path.join(dir, 'c.yaml');
    writeFileSync(
      config,
      'version: 1\nreactor:\n  rules:\n    - { name: x, on: "re:^(a+)+$", do: [{ stop: true }] }\n',
    );
    const r = runCli(['validate', '-c', config]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /reactor\.rules\[0\]\.on: 're:\^\(a\+\)\+\$' nests repetitions/);
  });

  it('unsubscribing a re: listener twice leaves the others subscribed', () => {
    const bus = new Bus();
    const got: string[] = [];
    const offA = bus.on('re:^a/', () => got.push('a'));
    bus.on('re:^a/', () => got.push('b'));
    offA();
    offA();
    bus.emit('a/x');
    assert.deepEqual(got, ['b']);
    const e: Event[] = [];
    bus.on('#', (x) => e.push(x));
    assert.equal(e.length, 0);
  });
});
