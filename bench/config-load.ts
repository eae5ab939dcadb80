/** Loading and validating a config with 1,000 rules, 50 services and 200 workers: target < 250 ms. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { loadConfigSync } from '../agent/config/load.js';
import { median, report } from './_report.js';

function generate(): unknown {
  const services: Record<string, unknown> = {};
  for (let s = 0; s < 50; s++) {
    services[`svc${s}`] = {
      driver: 'sim-vehicle',
      settings: { seed: s, cycle: 'urban' },
      hooks: [
        { name: 'engine', kind: 'trigger', use: 'engine_state' },
        { name: 'tenth', kind: 'converter', use: 'round', args: { digits: 1 } },
      ],
      workers: Array.from({ length: 4 }, (_, w) => ({
        name: `w${w}`,
        ...(w % 2 ? { cron: '*/10 * * * * *' } : { interval: '1s' }),
        messages: [
          {
            handler: 'query',
            args: { pid: 'RPM' },
            trigger: 'engine',
            filter: 'changed',
            returner: ['signals', 'cloud'],
          },
          { handler: 'voltage', converter: 'tenth', returner: 'signals' },
        ],
      })),
    };
  }
  const rules = Array.from({ length: 1000 }, (_, i) => ({
    name: `rule${i}`,
    on: [`vehicle/obd/r${i % 100}`, 'vehicle/+/running'],
    when: {
      and: [{ '>': [{ var: 'signals.obd.speed' }, i % 120] }, { in: [{ var: 'event.tag' }, ['a', 'b']] }],
    },
    for: '10s',
    throttle: '1m',
    do: [
      {
        emit: {
          tag: `vehicle/alert/r${i}`,
          data: { speed: '{{ signals.obd.speed }}', tag: '{{ event.tag }}' },
        },
      },
      { log: { message: 'rule {{ event.tag }} fired' } },
      { call: { service: `svc${i % 50}`, handler: 'vin' } },
    ],
  }));
  return { version: 1, services, reactor: { rules } };
}

const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-bench-'));
const file = path.join(dir, 'big.yaml');
writeFileSync(file, stringify(generate()));
loadConfigSync(file); // warm up: module loading and JIT are not what this measures
const times: number[] = [];
for (let i = 0; i < 15; i++) {
  const t0 = performance.now();
  const loaded = loadConfigSync(file);
  times.push(performance.now() - t0);
  if (loaded.config.reactor.rules.length !== 1000) throw new Error('generated config did not load whole');
}
rmSync(dir, { recursive: true });
report(
  'config-load (1,000 rules, 50 services, 200 workers), median of 15',
  median(times),
  'ms',
  250,
  'lower',
);
