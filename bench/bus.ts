/** Bus dispatch: 1M events to 1,000 subscriptions (wildcards mixed in), target ≥ 1M events/s; and with 10. */
import { performance } from 'node:perf_hooks';
import { Bus } from '../agent/core/bus.js';
import { report } from './_report.js';

const EVENTS = 1_000_000;
const TAGS = Array.from({ length: 100 }, (_, i) => `vehicle/s${i}/value`);

function subscribe(bus: Bus, n: number, hit: () => void): void {
  for (let i = 0; i < n; i++) {
    const k = i % 10;
    // 70 % exact, 20 % one-segment wildcards, 10 % multi-level wildcards.
    if (k < 7) bus.on(`vehicle/s${i % 100}/value${i >= 100 ? `/x${i}` : ''}`, hit);
    else if (k < 9) bus.on(`vehicle/+/v${i}`, hit);
    else bus.on(i % 20 === 9 ? `fleet/${i}/#` : 'vehicle/s1/#', hit);
  }
}

function run(subs: number): { rate: number; hits: number } {
  const bus = new Bus();
  let hits = 0;
  subscribe(bus, subs, () => {
    hits++;
  });
  for (let i = 0; i < 100_000; i++) bus.emit(TAGS[i % 100]!, {}); // warm-up
  hits = 0;
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++) bus.emit(TAGS[i % 100]!, {});
  const s = (performance.now() - t0) / 1000;
  return { rate: EVENTS / s, hits };
}

const big = run(1000);
const small = run(10);
report('bus dispatch, 1,000 subscriptions', big.rate / 1e6, 'M events/s', 1, 'higher');
report('bus dispatch, 10 subscriptions', small.rate / 1e6, 'M events/s', 1, 'higher');
console.log(
  `1,000 vs 10 subscriptions: ${((big.rate / small.rate) * 100).toFixed(0)} % of the rate (target ≥ 80 %), ` +
    `${(big.hits / EVENTS).toFixed(2)} vs ${(small.hits / EVENTS).toFixed(2)} listener calls per event`,
);
