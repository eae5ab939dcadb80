/**
 * CAN decoding as a replayed log feeds it: 300,000 `candump -l` lines of a VW MQB bus (opendbc's
 * vw_mqb.dbc, 113 messages), each a message drawn at random with fresh random payload bytes, with
 * 5% ids no DBC knows and 1% of the wrong length, as a real capture has. Each line is parsed and
 * decoded, and every decoded value is used. The same lines go through the `candied` package's
 * decoder (a general, interpreted DBC decoder) in the same run, parsed by the same candump parser.
 * Targets: ≥ 300,000 frames/s on one core, printed as a multiple of a saturated CAN FD bus
 * carrying this mix.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Can, Dbc } from 'candied';
import { parseCandump } from '../agent/drivers/can/candump.js';
import { codecsOf } from '../agent/drivers/can/codecs.js';
import { decodeLogLine } from '../agent/drivers/can/log-decode.js';
import { median, report } from './_report.js';
import { rng } from './_workload.js';

const N = 300_000;
const file = path.join(import.meta.dirname, '../test/fixtures/can/dbc/opendbc/vw_mqb.dbc');
const { byKey } = codecsOf([file]);
const messages = [...byKey.values()].map((c) => c.message);
const random = rng(11);
const hexByte = () =>
  Math.floor(random() * 256)
    .toString(16)
    .padStart(2, '0')
    .toUpperCase();

let payloadBytes = 0;
const lines: string[] = [];
for (let i = 0; i < N; i++) {
  const m = messages[Math.floor(random() * messages.length)]!;
  const roll = random();
  const id = roll < 0.05 ? 0x7f0 + Math.floor(random() * 15) : m.id;
  const length = roll > 0.99 ? m.length + 1 : m.length;
  payloadBytes += length;
  const data = Array.from({ length }, hexByte).join('');
  lines.push(
    `(${(1_700_000_000 + i / 4000).toFixed(6)}) can0 ${id.toString(16).toUpperCase().padStart(3, '0')}#${data}`,
  );
}
// One text split again: every line a string of its own, as a file or a socket gives them.
const input = lines.join('\n').split('\n');

function ours(): number {
  let sum = 0;
  const t0 = performance.now();
  for (const line of input) {
    const r = decodeLogLine(byKey, line);
    if (r.kind === 'frame') for (const k in r.frame.signals) sum += Number(r.frame.signals[k]);
  }
  const rate = N / ((performance.now() - t0) / 1000);
  if (!Number.isFinite(sum) || sum === 0) throw new Error('nothing decoded');
  return rate;
}

const can = new Can();
can.database = new Dbc().load(readFileSync(file, 'latin1'));
function theirs(): number {
  let sum = 0;
  const t0 = performance.now();
  for (const line of input) {
    const e = parseCandump(line);
    // candied refuses payloads over 8 bytes by throwing; a capture's 9-byte frame is skipped, as ours rejects it.
    if (!e || e.frame.data.length > 8) continue;
    const d = can.decode(can.createFrame(e.frame.id, Array.from(e.frame.data)));
    if (d) for (const s of d.boundSignals.values()) sum += s.value;
  }
  const rate = N / ((performance.now() - t0) / 1000);
  if (!Number.isFinite(sum) || sum === 0) throw new Error('nothing decoded');
  return rate;
}

/**
 * Frames per second of a saturated CAN FD bus carrying this mix: 1 Mbit/s arbitration (about 29
 * bits: SOF to BRS, ACK, EOF, intermission) and 5 Mbit/s data phase (ESI, DLC, stuff count, the
 * payload, CRC-17/21 and its delimiter, plus 10% bit stuffing).
 */
function busFramesPerSecond(meanPayload: number): number {
  const crc = meanPayload > 16 ? 21 : 17;
  const dataBits = (1 + 4 + 4 + meanPayload * 8 + crc + 1) * 1.1;
  return 1 / (29 / 1e6 + dataBits / 5e6);
}

const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < 5; i++) {
  a.push(ours());
  b.push(theirs());
}
const bus = busFramesPerSecond(payloadBytes / N);
console.log(
  `candied: ${(median(b) / 1000).toFixed(0)}k frames/s; ours: ${(median(a) / 1000).toFixed(0)}k frames/s, ${(median(a) / median(b)).toFixed(1)}×; ` +
    `a saturated CAN FD bus (1/5 Mbit/s) carries ${(bus / 1000).toFixed(1)}k of these frames/s`,
);
report(
  'CAN decoding, VW MQB log in random order (parse + decode)',
  median(a) / 1000,
  'k frames/s',
  300,
  'higher',
);
report('CAN decoding as a multiple of a saturated CAN FD bus', median(a) / bus, '×', 1, 'higher');
report('CAN decoding against candied, same lines', median(a) / median(b), '×', 1, 'higher');
