/**
 * A vehicle's workload for the reactor and JsonLogic benchmarks: the condition shapes the config
 * language has, a realistic action mix, event tags in random order and data fresh per event.
 */

import type { Result } from '../agent/core/types.js';
import { seeded as rng } from '../agent/drivers/sim/random.js';
import type { RuleT } from '../agent/reactor/schema.js';
import { Rule } from '../agent/reactor/schema.js';

/** A seeded generator: the same workload every run, not the same object every event. */
export { rng };

/** Every condition shape, parameterised by a threshold `k` (0..100) so about half hold. */
export const CONDITIONS: ((k: number, sig: string) => unknown)[] = [
  (k) => ({ '>': [{ var: 'event.data.value' }, k] }),
  (k, sig) => ({ and: [{ '>': [{ var: sig }, k] }, { '<': [{ var: 'event.data.value' }, k + 60] }] }),
  (k) => ({
    or: [{ '<': [{ var: 'signals.obd.voltage' }, 12.3] }, { '>=': [{ var: 'event.data.value' }, k] }],
  }),
  () => ({ '!': { var: 'state.parked' } }),
  () => ({ in: [{ var: 'event.data.code' }, ['P0301', 'P0420', 'P0171', 'P0442']] }),
  (k) => ({
    if: [
      { '>': [{ var: 'event.data.value' }, k + 40] },
      true,
      { '>': [{ var: 'event.data.value' }, k] },
      { '==': [{ var: 'state.mode' }, 'eco'] },
      false,
    ],
  }),
  (k) => ({ '>': [{ '-': [{ var: 'event.data.value' }, { var: ['state.last_value', 0] }] }, k - 50] }),
  () => ({ '<': [{ since: 'signals.obd.speed' }, 60] }),
  (k) => ({ '>': [{ distance: [{ var: 'signals.gnss.position' }, { lat: 59.91, lon: 10.75 }] }, k * 20] }),
  () => ({
    in_timetable: [[{ day_of_week: [1, 2, 3, 4, 5], time_slots: [{ start: '07:00', end: '19:00' }] }]],
  }),
  () => undefined,
  (k) => ({ '<=': [k / 2, { '*': [{ var: 'event.data.value' }, 1.1] }, 120] }),
];

/** The action mix: mostly templated emits, some logs, a few throttled state writes. */
function actions(i: number): Record<string, unknown> {
  const kind = i % 20;
  const emit = {
    emit: { tag: `out/r${i % 50}`, data: { value: '{{ event.data.value }}', from: '{{ event.tag }}' } },
  };
  if (kind < 13) return { do: [emit], throttle: 0 };
  if (kind < 16)
    return { do: [emit, { log: { level: 'info', message: 'r{{ event.data.value }}' } }], throttle: 0 };
  if (kind < 18) return { do: [emit], throttle: 100 };
  if (kind < 19)
    return {
      do: [{ log: { level: 'warn', message: '{{ event.tag }} at {{ event.data.value }}' } }],
      throttle: 1000,
    };
  return { do: [{ state: { set: `last_${i % 20}`, value: '{{ event.data.value }}' } }], throttle: 1000 };
}

/** The stream's tags: `vehicle/s<a>/t<b>`, 4 types per service. */
export function streamTags(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `vehicle/s${i >> 2}/t${i & 3}`);
}

/**
 * `n` rules, all live, about 5 matching each event of a stream over `0.32 n` tags: 70 % exact
 * tags, 20 % `vehicle/s<a>/+` (4 tags each), 10 % `+/s<a>/t<b>`; `re` of them `re:` patterns.
 */
export function rules(n: number, reShare = 0): { rules: RuleT[]; tags: string[] } {
  const { rules: raw, tags } = rawRules(n, reShare);
  return { rules: raw.map((r) => Rule.parse(r)), tags };
}

/** The same rules as config writes them (before parsing): for a config file. */
export function rawRules(n: number, reShare = 0): { rules: Record<string, unknown>[]; tags: string[] } {
  const tags = streamTags(Math.max(4, Math.round(n * 0.32) & ~3));
  const random = rng(n);
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const t = Math.floor(random() * tags.length);
    const a = t >> 2;
    const kind = random();
    const on =
      random() < reShare
        ? `re:^vehicle/s${a}/t[0-3]$`
        : kind < 0.7
          ? tags[t]!
          : kind < 0.9
            ? `vehicle/s${a}/+`
            : `+/s${a}/t${t & 3}`;
    const k = Math.floor(random() * 100);
    const when = CONDITIONS[i % CONDITIONS.length]!(k, `signals.s${a}.t${t & 3}`);
    out.push({ name: `r${i}`, on, ...(when === undefined ? {} : { when }), ...actions(i) });
  }
  return { rules: out, tags };
}

/** Fresh data for one event, as a driver reading would be. */
export function reading(random: () => number, ts: number) {
  return {
    value: Math.round(random() * 150),
    unit: 'km/h',
    code: random() < 0.1 ? 'P0420' : 'P0000',
    ts,
  };
}

const TYPES = ['rpm', 'speed', 'coolant_temp', 'throttle_pos', 'voltage', 'location'];

/** Readings as the `cloud` returner gets them, numbered, fresh per call; `seed` fixes the values. */
export function records(seed: number): (i: number) => Result {
  const random = rng(seed);
  return (i) => ({
    type: TYPES[i % TYPES.length]!,
    value:
      TYPES[i % TYPES.length] === 'location'
        ? { lat: 59.9 + random() / 100, lon: 10.7 + random() / 100 }
        : Math.round(random() * 5000) / 10,
    unit: 'x',
    ts: Date.now(),
  });
}
