import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Bus, type Event } from '../../agent/core/bus.js';
import { FakeClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/logger.js';
import { SignalStore } from '../../agent/core/signals.js';
import { StateStore } from '../../agent/core/state-store.js';
import type { HookContext, HookFns, Result } from '../../agent/core/types.js';
import { BUILTIN_HOOKS } from '../../agent/hooks/registry.js';
import { conditionFactory } from '../../agent/reactor/condition.js';
import type { HookKind } from '../../schemas/services.js';
import { tmpDir } from '../helpers/tmp.js';

function context() {
  const clock = new FakeClock(0);
  const bus = new Bus(clock);
  const events: Event[] = [];
  bus.on('#', (e) => events.push(e));
  const dataDir = tmpDir();
  const state = new StateStore(dataDir);
  after(() => state.close());
  const records: [string, Result][] = [];
  const signals = new SignalStore();
  const ctx: HookContext = {
    service: 'obd',
    bus,
    clock,
    signals,
    state,
    log: silentLogger,
    dataDir,
    unit: { id: 'u1' },
    records: { push: (s, r) => void records.push([s, r]) },
    condition: conditionFactory({ signals, clock, unit: { id: 'u1' } }),
  };
  const hook = <K extends HookKind>(
    name: string,
    kind: K,
    args: Record<string, unknown> = {},
  ): HookFns[K] => {
    const def = BUILTIN_HOOKS.get(name)!;
    assert.equal(def.kind, kind);
    return def.build(args, ctx) as HookFns[K];
  };
  const tags = () => events.map((e) => e.tag);
  return { ctx, clock, events, tags, hook, records };
}

const r = (type: string, value: unknown, ts = 0): Result => ({ type, value, ts });

describe('converters', () => {
  it('scale and round numbers, and leave other values alone', () => {
    const { hook } = context();
    assert.equal(
      (hook('scale', 'converter', { factor: 0.5, offset: -40 })(r('temp', 130)) as Result).value,
      25,
    );
    assert.equal((hook('round', 'converter', { digits: 1 })(r('v', 12.345)) as Result).value, 12.3);
    assert.equal((hook('round', 'converter')(r('v', 12.5)) as Result).value, 13);
    assert.equal((hook('round', 'converter')(r('vin', 'WVW')) as Result).value, 'WVW');
  });
});

describe('filters', () => {
  it('changed passes the first value and changes beyond the deadband, per type', () => {
    const { hook } = context();
    const f = hook('changed', 'filter', { deadband: 50 });
    assert.deepEqual(
      [800, 820, 851, 860, 900].map((v) => f(r('rpm', v))),
      [true, false, true, false, false],
    );
    assert.equal(f(r('speed', 0)), true);
    const exact = hook('changed', 'filter');
    assert.deepEqual(
      [['P1'], ['P1'], ['P1', 'P2']].map((v) => exact(r('dtc', v))),
      [true, false, true],
    );
  });

  it('range, every and logic', () => {
    const { hook, ctx } = context();
    const range = hook('range', 'filter', { min: 0, max: 250 });
    assert.deepEqual(
      [-1, 0, 250, 251, 'x'].map((v) => range(r('speed', v))),
      [false, true, true, false, false],
    );
    const every = hook('every', 'filter', { interval: '10s' });
    assert.deepEqual(
      [0, 5000, 10_000, 19_999, 20_000].map((ts) => every(r('rpm', 1, ts))),
      [true, false, true, false, true],
    );
    ctx.signals.set('obd', 'speed', 0, 0);
    const parked = hook('logic', 'filter', { when: { '==': [{ var: 'signals.obd.speed' }, 0] } });
    assert.equal(parked(r('voltage', 12)), true);
    ctx.signals.set('obd', 'speed', 30, 1);
    assert.equal(parked(r('voltage', 12)), false);
  });
});

describe('enrichers', () => {
  it('unit adds the known unit; position adds the latest location', () => {
    const { hook, ctx } = context();
    assert.equal((hook('unit', 'enricher')(r('speed', 5)) as Result).unit, 'km/h');
    assert.equal((hook('unit', 'enricher', { units: { oil: 'bar' } })(r('oil', 5)) as Result).unit, 'bar');
    ctx.signals.set('gnss', 'location', { lat: 59.9, lon: 10.7, speed: 3 }, 0);
    assert.deepEqual((hook('position', 'enricher')(r('speed', 5)) as Result).position, {
      lat: 59.9,
      lon: 10.7,
    });
  });
});

describe('triggers', () => {
  it('engine_state: not_running, running, stopped, on change only; errors count as 0 rpm', () => {
    const { hook, tags } = context();
    const t = hook('engine_state', 'trigger');
    t(r('rpm', 0));
    t(r('rpm', 0));
    t(r('rpm', 800));
    t(r('rpm', 2000));
    t({ error: 'NO DATA', ts: 0 });
    t(r('rpm', 0));
    assert.deepEqual(tags(), [
      'vehicle/engine/not_running',
      'vehicle/engine/running',
      'vehicle/engine/stopped',
    ]);
  });

  it('battery_state: a state counts only after it held for `hold`', async () => {
    const { hook, tags, clock, events } = context();
    const t = hook('battery_state', 'trigger', { critical_volts: 12.3, hold: '3s' });
    t(r('voltage', 12.6));
    await clock.advance(3000);
    t(r('voltage', 10.9)); // cranking dip, gone within a second
    await clock.advance(1000);
    t(r('voltage', 14.1));
    await clock.advance(3000);
    t(r('voltage', 12.1));
    await clock.advance(2999);
    assert.deepEqual(tags(), ['vehicle/battery/discharging', 'vehicle/battery/charging']);
    await clock.advance(1);
    assert.deepEqual(tags().at(-1), 'vehicle/battery/critical_level');
    assert.equal(events.at(-1)!.data.volts, 12.1);
  });

  it('threshold: fires on crossing, re-arms only below the hysteresis band', () => {
    const { hook, events } = context();
    const t = hook('threshold', 'trigger', {
      tag: 'vehicle/engine/overheating',
      above: 105,
      below: 100,
      clear_tag: 'vehicle/engine/cooled',
    });
    for (const v of [90, 106, 104, 107, 99, 106]) t(r('coolant_temp', v));
    assert.deepEqual(
      events.map((e) => [e.tag, e.data.value]),
      [
        ['vehicle/engine/overheating', 106],
        ['vehicle/engine/cooled', 99],
        ['vehicle/engine/overheating', 106],
      ],
    );
  });

  it('dtc_change: new and cleared codes', () => {
    const { hook, events } = context();
    const t = hook('dtc_change', 'trigger');
    t(r('dtc', []));
    t(r('dtc', ['P0301']));
    t(r('dtc', ['P0301', 'P0420']));
    t(r('dtc', ['P0420']));
    assert.deepEqual(
      events.map((e) => [e.tag, e.data.codes]),
      [
        ['vehicle/dtc/new', ['P0301']],
        ['vehicle/dtc/new', ['P0420']],
        ['vehicle/dtc/cleared', ['P0301']],
      ],
    );
  });

  it('position_state: fix, moving, standstill, lost', () => {
    const { hook, tags } = context();
    const t = hook('position_state', 'trigger');
    t(r('location', { lat: 59.91, lon: 10.75, speed: 0 }));
    t(r('location', { lat: 59.91, lon: 10.75, speed: 30 }));
    t(r('location', { lat: 59.92, lon: 10.75, speed: 40 }));
    t(r('location', { lat: 59.92, lon: 10.75, speed: 0 }));
    t({ error: 'no fix', ts: 0 });
    assert.deepEqual(tags(), [
      'vehicle/position/fix',
      'vehicle/position/standstill',
      'vehicle/position/moving',
      'vehicle/position/standstill',
      'vehicle/position/lost',
    ]);
  });
});

describe('returners', () => {
  it('signals, emit, cloud and file', async () => {
    const { hook, ctx, events, records } = context();
    const reading = r('rpm', 900, 5);
    hook('signals', 'returner')(reading);
    assert.deepEqual(ctx.signals.get('obd', 'rpm'), { value: 900, ts: 5, changedAt: 5, unit: undefined });
    hook('signals', 'returner')({ ...reading, unit: 'rpm' });
    assert.equal(ctx.signals.get('obd', 'rpm')?.unit, 'rpm');
    hook('emit', 'returner')(reading);
    hook('emit', 'returner', { tag: 'custom/rpm' })(reading);
    assert.deepEqual(
      events.map((e) => e.tag),
      ['vehicle/obd/rpm', 'custom/rpm'],
    );
    assert.deepEqual(events[0]!.data, { type: 'rpm', value: 900, ts: 5 });
    hook('cloud', 'returner')(reading);
    assert.deepEqual(records, [['obd', reading]]);
    const file = hook('file', 'returner', { path: 'out/readings.jsonl' });
    await file(reading);
    await file(r('speed', 3, 6));
    const lines = readFileSync(path.join(ctx.dataDir, 'out/readings.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { service: 'obd', type: 'rpm', value: 900, ts: 5 },
      { service: 'obd', type: 'speed', value: 3, ts: 6 },
    ]);
  });
});
