/**
 * Records per second through the `cloud` returner into the outbox, durable against power loss
 * (WAL, synchronous FULL, a push accepted once its batch is synced), with 64 workers pushing at
 * once, against two baselines on the same disk in the same run: plain better-sqlite3 with 500
 * inserts per transaction, and one autocommit insert per record. Target ≥ 50,000 records/s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Outbox } from '../agent/cloud/outbox.js';
import type { HookContext, Result } from '../agent/core/types.js';
import { BUILTIN_HOOKS } from '../agent/hooks/registry.js';
import { median, report } from './_report.js';
import { records } from './_workload.js';

const RECORDS = 100_000;
const WORKERS = 64;
const result = records(7);

const scratch = () => mkdtempSync(path.join(tmpdir(), 'pitcrew-outbox-'));

async function ours(): Promise<number> {
  const dir = scratch();
  const box = new Outbox(dir, { maxRecords: 10_000_000, maxBytes: 2 ** 40 });
  const def = BUILTIN_HOOKS.get('cloud')!;
  if (def.kind !== 'returner') throw new Error('cloud is a returner');
  const cloud = def.build({}, { service: 'obd', records: box } as unknown as HookContext);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < RECORDS) await cloud(result(next++));
    }),
  );
  const rate = RECORDS / ((performance.now() - t0) / 1000);
  box.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

function plain(perTransaction: number, records: number): number {
  const dir = scratch();
  const db = new Database(path.join(dir, 'b.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE r (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT, service TEXT, ts INTEGER, record TEXT)',
  );
  const insert = db.prepare('INSERT INTO r (id, service, ts, record) VALUES (?, ?, ?, ?)');
  const batch = db.transaction((rows: Result[], from: number) => {
    for (const [k, r] of rows.entries()) insert.run(`id-${from + k}`, 'obd', r.ts, JSON.stringify(r));
  });
  const t0 = performance.now();
  for (let i = 0; i < records; i += perTransaction) {
    const rows = Array.from({ length: perTransaction }, (_, k) => result(i + k));
    if (perTransaction === 1) insert.run(`id-${i}`, 'obd', rows[0]!.ts, JSON.stringify(rows[0]));
    else batch(rows, i);
  }
  const rate = records / ((performance.now() - t0) / 1000);
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

const a: number[] = [];
const b: number[] = [];
const c: number[] = [];
await ours(); // warm-up
for (let round = 0; round < 3; round++) {
  a.push(await ours());
  b.push(plain(500, RECORDS));
  c.push(plain(1, 5000));
}
const [o, batched, auto] = [median(a), median(b), median(c)];
console.log(
  `outbox (cloud returner, ${WORKERS} workers, durable): ${(o / 1000).toFixed(0)}k records/s; ` +
    `plain better-sqlite3, 500 per transaction: ${(batched / 1000).toFixed(0)}k/s (${((o / batched) * 100).toFixed(0)} % of it); ` +
    `autocommit: ${(auto / 1000).toFixed(1)}k/s (${(o / auto).toFixed(1)}x)`,
);
report('outbox, durable records/s through the cloud returner', o / 1000, 'k records/s', 50, 'higher');
