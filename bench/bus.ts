/**
 * Bus dispatch: 1M events to 1,000 subscriptions (wildcards mixed in), target ≥ 1M events/s; and
 * the same event stream with only its 10 matching subscriptions, within 20 %: subscriptions an
 * event does not match cost it nothing. Tags in random order, each event's data fresh and read.
 */
import { performance } from 'node:perf_hooks';
import { Bus } from '../agent/core/bus.js';
import { median, report } from './_report.js';
import { reading, rng } from './_workload.js';

const EVENTS = 1_000_000;
const TAGS = Array.from({ length: 100 }, (_, i) => `vehicle/s${i}/value`);
/** The tags in random order, the same every run. */
const order = rng(1);
const ORDER = Uint8Array.from({ length: EVENTS }, () => Math.floor(order() * TAGS.length));

/** The 10 subscriptions the stream matches: exact, `+` and `#`. */
const HOT = [
  ...Array.from({ length: 6 }, (_, i) => `vehicle/s${i * 10}/value`),
  'vehicle/+/value',
  'vehicle/s1/#',
  '+/s2/value',
  're:^vehicle/s3/value$',
];

/** 990 more that the stream never matches, also mixing exact, `+` and `#`. */
const COLD = Array.from({ length: 990 }, (_, i) => {
  const k = i % 10;
  if (k < 6) return `vehicle/s${i}/other`;
  if (k < 8) return `vehicle/+/v${i}`;
  if (k < 9) return `fleet/${i}/#`;
  return `+/x${i}/value`;
});

/** Each listener reads its event's data: a reading made fresh for every event, as a driver's is. */
function run(patterns: string[]): { rate: number; hits: number; sum: number } {
  const bus = new Bus();
  const random = rng(2);
  let hits = 0;
  let sum = 0;
  for (const p of patterns) {
    bus.on(p, (e) => {
      hits++;
      sum += (e.data as { value: number }).value;
    });
  }
  for (let i = 0; i < 100_000; i++) bus.emit(TAGS[ORDER[i]!]!, reading(random, i)); // warm-up
  hits = 0;
  sum = 0;
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++) bus.emit(TAGS[ORDER[i]!]!, reading(random, i));
  return { rate: EVENTS / ((performance.now() - t0) / 1000), hits, sum };
}

const big: number[] = [];
const small: number[] = [];
let calls = [0, 0];
let same = true;
for (let round = 0; round < 5; round++) {
  const b = run([...HOT, ...COLD]);
  const s = run(HOT);
  big.push(b.rate);
  small.push(s.rate);
  calls = [b.hits / EVENTS, s.hits / EVENTS];
  same &&= b.sum === s.sum && b.hits === s.hits;
}
report('bus dispatch, 1,000 subscriptions', median(big) / 1e6, 'M events/s', 1, 'higher');
report('bus dispatch, the 10 it matches', median(small) / 1e6, 'M events/s', 1, 'higher');
report(
  '1,000 subscriptions vs 10 (same events)',
  (median(big) / median(small)) * 100,
  '% of the rate',
  80,
  'higher',
);
console.log(
  `listener calls per event: ${calls[0]!.toFixed(2)} with 1,000, ${calls[1]!.toFixed(2)} with 10; ` +
    `the same calls and data read in both: ${same ? 'yes' : 'NO'}`,
);
if (!same) process.exitCode = 1;
