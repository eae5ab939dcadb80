/**
 * Compiled JsonLogic against json-logic-js `apply`, per category: the shipped rules (the starter
 * pack and the examples), the official test suite, and vehicle-like conditions with and without
 * the extension operators (`since`, `distance`, `in_timetable`, added to json-logic-js with the
 * same implementations). The rules of a category in random order (the same order for every
 * evaluator), data varying per call, results consumed. Target: ≥ 10× in every category.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LogicEngine } from 'json-logic-engine';
import jsonLogic from 'json-logic-js';
import { loadConfigSync } from '../agent/config/load.js';
import { ZonedTime } from '../agent/core/cron.js';
import { distanceM } from '../agent/core/geo.js';
import { SignalStore } from '../agent/core/signals.js';
import { inTimetable, type TimetableEntryLike } from '../agent/core/timetable.js';
import { compile, compileLogic } from '../agent/reactor/logic.js';
import { median, report } from './_report.js';
import { CONDITIONS, reading, rng } from './_workload.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const random = rng(11);
const signals = new SignalStore();
const zone = new ZonedTime('Europe/Oslo');
const now = () => Date.now();

// The extensions, for json-logic-js exactly as the compiler has them.
jsonLogic.add_operation('since', (p: string) => {
  const at = signals.byPath(String(p))?.changedAt;
  return at === undefined ? null : (now() - at) / 1000;
});
jsonLogic.add_operation('distance', (...a: unknown[]) => {
  const f = a.flatMap((p) =>
    p !== null && typeof p === 'object' && !Array.isArray(p)
      ? [(p as { lat: number }).lat, (p as { lon: number }).lon]
      : p,
  ) as number[];
  return f.length === 4 && f.every((n) => typeof n === 'number')
    ? distanceM(f[0]!, f[1]!, f[2]!, f[3]!)
    : null;
});
jsonLogic.add_operation('in_timetable', (t: unknown) =>
  Array.isArray(t) ? inTimetable(t as TimetableEntryLike[], now(), zone) : false,
);
const opts = {
  changedAt: (p: string) => signals.byPath(p)?.changedAt,
  now,
  timezone: 'Europe/Oslo',
};

/** Vehicle-like run data, fresh values per object; a pool rotated through, one per call. */
function vehicleData(n: number): unknown[] {
  return Array.from({ length: n }, () => {
    const r = reading(random, Date.now());
    const v = r.value;
    return {
      event: { tag: 'vehicle/obd/speed', data: r },
      signals: {
        obd: {
          speed: v,
          rpm: v * 30,
          voltage: 11.8 + random(),
          coolant_temp: 80 + v / 5,
          location: { lat: 59.9 + random() / 10, lon: 10.7 + random() / 10 },
        },
        gnss: { position: { lat: 59.9 + random() / 10, lon: 10.7 + random() / 10 } },
        s3: { t1: v },
      },
      state: {
        parked: random() < 0.3,
        mode: random() < 0.5 ? 'eco' : 'sport',
        last_value: v - 10,
        last_speed: v + 5,
      },
      unit: { id: 'bench' },
      now: Date.now(),
    };
  });
}
signals.set('obd', 'speed', 40, Date.now() - 5000);

/** Conditions written in the shipped configs and rule packs. */
function shipped(): unknown[] {
  const files = [
    'config/pitcrew.yaml',
    ...readdirSync(path.join(ROOT, 'config/examples'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `config/examples/${f}`),
  ];
  const out: unknown[] = [];
  for (const f of files) {
    const c = loadConfigSync(path.join(ROOT, f), {}).config;
    for (const r of c.reactor.rules) if (r.when !== undefined) out.push(r.when);
  }
  return out;
}

/** The official suite: each rule with its own data. */
function official(): [unknown, unknown][] {
  const suite = JSON.parse(
    readFileSync(path.join(ROOT, 'test/fixtures/jsonlogic/tests.json'), 'utf8'),
  ) as unknown[];
  return suite.filter((t): t is [unknown, unknown, unknown] => Array.isArray(t)).map(([l, d]) => [l, d]);
}

type Case = [logic: unknown, data: unknown];

/** The cases in random order, each as often: the same order for every evaluator, made once per size. */
const orders = new Map<number, Uint32Array>();
function orderOf(n: number): Uint32Array {
  let order = orders.get(n);
  if (!order) {
    const shuffle = rng(n);
    order = Uint32Array.from({ length: n * 4 }, (_, i) => i % n);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(shuffle() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    orders.set(n, order);
  }
  return order;
}

/** Evaluations per second: the cases in random order, round after round. */
function measure(evaluate: ((d: unknown) => unknown)[], data: unknown[], calls: number): number {
  let sink = 0;
  const order = orderOf(evaluate.length);
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    const k = order[i % order.length]!;
    if (evaluate[k]!(data[k])) sink++;
  }
  const s = (performance.now() - t0) / 1000;
  if (sink < 0) console.log(sink);
  return calls / s;
}

/** json-logic-engine 5 in its compiled mode, the fastest JavaScript peer: it generates code. */
const engine = new LogicEngine();

/**
 * One category: json-logic-js (the 10× target's baseline), pitcrew's closures (the fallback where
 * code generation is off), pitcrew's generated code, and, with `peer`, json-logic-engine's
 * compiled mode (its target: pitcrew's generated code ≥ 1.0×). Every figure from this same run.
 */
function category(name: string, cases: Case[], calls: number, peer = false): void {
  const logic = cases.map(([l]) => l);
  const data = cases.map(([, d]) => d);
  const kinds: [string, ((d: unknown) => unknown)[]][] = [
    ['json-logic-js', logic.map((l) => (d: unknown) => jsonLogic.apply(l as never, d))],
    ['closures', logic.map((l) => compile(l, opts))],
    ['generated', logic.map((l) => compileLogic(l, opts))],
    ...(peer
      ? [
          ['json-logic-engine', logic.map((l) => engine.build(l as never) as (d: unknown) => unknown)] as [
            string,
            ((d: unknown) => unknown)[],
          ],
        ]
      : []),
  ];
  for (const [, fs] of kinds) measure(fs, data, calls / 4);
  const rates = kinds.map(() => [] as number[]);
  for (let round = 0; round < 5; round++)
    for (const [i, [, fs]] of kinds.entries()) rates[i]!.push(measure(fs, data, calls));
  const m = rates.map(median);
  console.log(
    `${name} (${cases.length} conditions): ${kinds.map(([k], i) => `${k} ${(m[i]! / 1e6).toFixed(2)} M/s`).join(', ')}`,
  );
  report(`pitcrew's JsonLogic (generated) vs json-logic-js, ${name}`, m[2]! / m[0]!, '×', 10, 'higher');
  report(
    `pitcrew's closures (no code generation) vs json-logic-js, ${name}`,
    m[1]! / m[0]!,
    '×',
    10,
    'higher',
  );
  if (peer)
    report(
      `pitcrew's generated code vs json-logic-engine compiled, ${name}`,
      m[2]! / m[3]!,
      '×',
      1,
      'higher',
    );
}

const pool = vehicleData(1024);
/** Each condition paired with a different data object on every call: the pool is walked at another stride. */
const withPool = (conds: unknown[]): Case[] =>
  Array.from({ length: conds.length * 64 }, (_, i) => [conds[i % conds.length], pool[(i * 7) % pool.length]]);

const EXT = new Set([7, 8, 9]); // since, distance, in_timetable shapes in the workload
const vehicle = CONDITIONS.map((c, i) => [c(Math.floor(random() * 100), 'signals.s3.t1'), i] as const).filter(
  ([c]) => c !== undefined,
);
category('shipped rules', withPool(shipped()), 400_000);
category('official suite', official(), 400_000, true);
category(
  'vehicle-like, no extensions',
  withPool(vehicle.filter(([, i]) => !EXT.has(i)).map(([c]) => c)),
  400_000,
  true,
);
category(
  'vehicle-like, with since/distance/in_timetable',
  withPool(vehicle.filter(([, i]) => EXT.has(i)).map(([c]) => c)),
  400_000,
);
