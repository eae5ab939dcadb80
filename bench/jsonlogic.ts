/** Compiled JsonLogic against json-logic-js `apply` on the same rules and data: target ≥ 10× faster. */
import { performance } from 'node:perf_hooks';
import jsonLogic from 'json-logic-js';
import { compile } from '../agent/reactor/logic.js';
import { median, report } from './_report.js';

const RULES: unknown[] = [
  { and: [{ '>': [{ var: 'signals.obd.rpm' }, 3000] }, { '==': [{ var: 'signals.obd.gear' }, 'D'] }] },
  {
    or: [
      { '<': [{ var: 'signals.obd.voltage' }, 12.3] },
      { '>=': [{ var: 'signals.obd.coolant_temp' }, 105] },
    ],
  },
  { in: [{ var: 'event.data.code' }, ['P0301', 'P0420', 'P0171']] },
  { '>': [{ '-': [{ var: 'event.data.value' }, { var: ['state.last_speed', 0] }] }, 15] },
  { '<=': [40, { '*': [{ var: 'signals.obd.speed' }, 1.1] }, 120] },
  { '!': { var: 'state.parked' } },
  {
    if: [
      { '>': [{ var: 'signals.obd.speed' }, 100] },
      'fast',
      { '>': [{ var: 'signals.obd.speed' }, 0] },
      'moving',
      'parked',
    ],
  },
  { '==': [{ '%': [{ var: 'event.data.count' }, 10] }, 0] },
];

const DATA = Array.from({ length: 4 }, (_, i) => ({
  event: {
    tag: 'vehicle/obd/speed',
    data: { value: 40 + i * 30, code: ['P0301', 'P0000'][i % 2], count: i * 5 },
  },
  signals: {
    obd: {
      rpm: 2500 + i * 400,
      gear: i % 2 ? 'D' : 'N',
      voltage: 12 + i * 0.5,
      coolant_temp: 90 + i * 6,
      speed: i * 45,
    },
  },
  state: { last_speed: 50, parked: i === 0 },
}));

const N = 200_000;

/** Evaluations per second over the whole mix: each rule in turn over the rotating data. */
function measure(evaluators: ((d: unknown) => unknown)[]): number {
  let sink = 0;
  const per = N / evaluators.length;
  const run = (f: (d: unknown) => unknown, n: number) => {
    for (let i = 0; i < n; i++) if (f(DATA[i & 3])) sink++;
  };
  for (const f of evaluators) run(f, per / 4); // warm-up
  const t0 = performance.now();
  for (const f of evaluators) run(f, per);
  const s = (performance.now() - t0) / 1000;
  if (sink < 0) console.log(sink);
  return N / s;
}

// Alternating rounds, medians: the two are measured under the same conditions.
const apply = RULES.map((r) => (d: unknown) => jsonLogic.apply(r as never, d));
const compiled = RULES.map((r) => compile(r));
const a: number[] = [];
const b: number[] = [];
for (let round = 0; round < 7; round++) {
  a.push(measure(apply));
  b.push(measure(compiled));
}
const theirs = median(a);
const ours = median(b);
console.log(`json-logic-js apply: ${(theirs / 1e6).toFixed(2)} M evaluations/s`);
console.log(`compiled:            ${(ours / 1e6).toFixed(2)} M evaluations/s`);
report('compiled JsonLogic vs json-logic-js apply (same rules and data)', ours / theirs, '×', 10, 'higher');
