/**
 * NMEA parsing on gpsd's logs (test/fixtures/nmea): 500,000 sentences drawn at random from the
 * four logs, each line its own string, parsed by the driver's parser and by the `nmea-simple`
 * package in the same run, every result used. The comparison is on the sentences both read
 * (GGA, RMC, GSA, GSV, VTG, GLL, ZDA with good checksums). Targets: ≥ 500,000 sentences/s and
 * ≥ 2× nmea-simple.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseNmeaSentence } from 'nmea-simple';
import { parseNmea } from '../agent/drivers/gnss/nmea-parse.js';
import { median, report } from './_report.js';
import { rng } from './_workload.js';

const N = 500_000;
const dir = path.join(import.meta.dirname, '../test/fixtures/nmea');
const pool = ['bn-9015', 'et-332', 'isync', 'nl2008u']
  .flatMap((f) => readFileSync(path.join(dir, `${f}.log`), 'latin1').split('\n'))
  .map((l) => l.replace(/\r$/, ''))
  .filter((l) => typeof parseNmea(l) === 'object');
const random = rng(3);
// One text of N random sentences split again: every line a string of its own, as a port gives them.
const lines = Array.from({ length: N }, () => pool[Math.floor(random() * pool.length)]!)
  .join('\n')
  .split('\n');

function ours(): number {
  let sum = 0;
  const t0 = performance.now();
  for (const l of lines) {
    const s = parseNmea(l);
    if (typeof s === 'object') sum += s.type === 'GGA' || s.type === 'RMC' ? (s.lat ?? 0) : s.talker.length;
  }
  const rate = N / ((performance.now() - t0) / 1000);
  if (!(sum > 0)) throw new Error('nothing parsed');
  return rate;
}

function theirs(): number {
  let sum = 0;
  const t0 = performance.now();
  for (const l of lines) {
    const s = parseNmeaSentence(l) as { sentenceId: string; talkerId?: string; latitude?: number };
    sum += s.sentenceId === 'GGA' || s.sentenceId === 'RMC' ? (s.latitude ?? 0) : (s.talkerId?.length ?? 0);
  }
  const rate = N / ((performance.now() - t0) / 1000);
  if (!(sum > 0)) throw new Error('nothing parsed');
  return rate;
}

const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < 5; i++) {
  a.push(ours());
  b.push(theirs());
}
console.log(
  `nmea-simple: ${(median(b) / 1000).toFixed(0)}k sentences/s; ours: ${(median(a) / 1000).toFixed(0)}k/s, ${(median(a) / median(b)).toFixed(1)}×`,
);
report('NMEA parsing, gpsd logs in random order', median(a) / 1000, 'k sentences/s', 500, 'higher');
report('NMEA parsing against nmea-simple, same sentences', median(a) / median(b), '×', 2, 'higher');
