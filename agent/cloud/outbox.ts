import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from '../core/storage.js';
import type { RecordSink, Result } from '../core/types.js';

/** Most records one transaction takes; past it a batch is written at once. */
const MAX_GROUP = 2000;

/** A row waiting for its group commit: a data record (`topic` null) or a message for its own topic. */
type Pending = [
  id: string,
  service: string,
  ts: number,
  record: string,
  topic: string | null,
  qos: number,
  retain: number,
];

/** What one committed write did to the queue. */
interface Written {
  added: number;
  addedBytes: number;
  dropped: number;
  freed: number;
}

/** What the link sends: a data record, batched with its neighbours, or a message published alone. */
export interface Row {
  seq: number;
  record: string;
  size: number;
  topic: string | null;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface OutboxLimits {
  maxRecords: number;
  maxBytes: number;
}

export interface OutboxHooks {
  /** Records that could not be written (a full disk): dropped, counted, reported here. */
  onWriteError?: (file: string, e: unknown) => void;
  /** The oldest records dropped to keep within the limits. */
  onDropped?: (count: number) => void;
  /** New records are on disk: a sender may wake. */
  onAccepted?: () => void;
}

/** Where a unit's outbox is. */
export const outboxFile = (dataDir: string) => path.join(dataDir, 'outbox.db');

/** The most an outbox held in memory (its card read-only) keeps, of a unit's few hundred MB. */
const IN_MEMORY: OutboxLimits = { maxRecords: 50_000, maxBytes: 8 * 1024 * 1024 };

const withinMemory = (l: OutboxLimits): OutboxLimits => ({
  maxRecords: Math.min(l.maxRecords, IN_MEMORY.maxRecords),
  maxBytes: Math.min(l.maxBytes, IN_MEMORY.maxBytes),
});

/**
 * Records bound for the cloud, on disk before they count as accepted (SQLite, WAL, synchronous
 * FULL: a committed record survives a power cut). Pushes are grouped: the records pushed in one
 * turn of the event loop (up to MAX_GROUP) go in one transaction with one sync, and each push's
 * promise resolves once its record is synced. A record leaves only when the link acknowledges it
 * (`ack`), or when it is the oldest and the queue is past `maxRecords` or `maxBytes`. Depth and
 * bytes are kept in memory, so status costs no query.
 */
export class Outbox implements RecordSink {
  private readonly db: Database.Database;
  private readonly writeGroup: (rows: Pending[]) => void;
  private readonly readAfter: Database.Statement<[number, number], Row>;
  private readonly deleteUpTo: Database.Statement<[number]>;
  private readonly deleteRange: Database.Statement<[number, number], { size: number }>;
  private readonly oldestAt: Database.Statement<[], { ts: number }>;
  private readonly walkOldest: Database.Statement<[], { seq: number; size: number }>;
  private pending: Pending[] = [];
  private settle?: () => void;
  private accepted?: Promise<void>;
  private droppedCount = 0;
  private count = 0;
  private bytes = 0;

  readonly file: string;

  constructor(
    dataDir: string,
    private readonly limits: OutboxLimits = { maxRecords: 1_000_000, maxBytes: 256 * 1024 ** 2 },
    private readonly hooks: OutboxHooks = {},
  ) {
    this.file = outboxFile(dataDir);
    // Held exclusively, as openWal says why.
    this.db = openDatabase(this.file, {}, 512, true);
    // In memory (a read-only card), the queue takes no more of it than a unit can spare.
    if (this.db.memory) this.limits = withinMemory(limits);
    // A database that fails to set up is closed: a damaged one is then moved aside (openOrReplace).
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      // A new queue is made as it is now (its columns as migrate() leaves an old one's): at a first
      // boot, no second transaction, with its syncs, to bring it up to date.
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, service TEXT NOT NULL, ts INTEGER NOT NULL, record TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0, topic TEXT, qos INTEGER NOT NULL DEFAULT 1, retain INTEGER NOT NULL DEFAULT 0)',
      );
      this.migrate();
      const insert = this.db.prepare<[...Pending, number]>(
        'INSERT INTO outbox (id, service, ts, record, topic, qos, retain, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      // The counters change only after the transaction commits: a write that fails (a full disk)
      // rolls back and leaves them as they were, so they always match the rows on disk.
      const write = this.db.transaction((rows: Pending[]): Written => {
        let added = 0;
        let addedBytes = 0;
        for (const r of rows) {
          const size = Buffer.byteLength(r[3]);
          insert.run(...r, size);
          added++;
          addedBytes += size;
        }
        return { added, addedBytes, ...this.dropOldest(this.count + added, this.bytes + addedBytes) };
      });
      this.writeGroup = (rows) => {
        const w = write(rows);
        this.count += w.added - w.dropped;
        this.bytes += w.addedBytes - w.freed;
        if (w.dropped) {
          this.droppedCount += w.dropped;
          this.hooks.onDropped?.(w.dropped);
        }
      };
      this.readAfter = this.db.prepare(
        'SELECT seq, record, size, topic, qos, retain = 1 AS retain FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?',
      );
      this.deleteUpTo = this.db.prepare('DELETE FROM outbox WHERE seq <= ?');
      this.deleteRange = this.db.prepare('DELETE FROM outbox WHERE seq BETWEEN ? AND ? RETURNING size');
      this.oldestAt = this.db.prepare('SELECT ts FROM outbox ORDER BY seq LIMIT 1');
      this.walkOldest = this.db.prepare('SELECT seq, size FROM outbox ORDER BY seq');
      const totals = this.db
        .prepare('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM outbox')
        .get() as {
        n: number;
        b: number;
      };
      this.count = totals.n;
      this.bytes = totals.b;
    } catch (e) {
      this.db.close();
      throw e;
    }
  }

  /** Queues of earlier versions had no size, topic, qos or retain: added, sizes filled in. */
  private migrate(): void {
    const cols = new Set(
      (this.db.prepare('PRAGMA table_info(outbox)').all() as { name: string }[]).map((c) => c.name),
    );
    if (cols.has('size')) return;
    this.db.transaction(() => {
      this.db.exec(
        'ALTER TABLE outbox ADD COLUMN size INTEGER NOT NULL DEFAULT 0; ALTER TABLE outbox ADD COLUMN topic TEXT; ALTER TABLE outbox ADD COLUMN qos INTEGER NOT NULL DEFAULT 1; ALTER TABLE outbox ADD COLUMN retain INTEGER NOT NULL DEFAULT 0; UPDATE outbox SET size = length(CAST(record AS BLOB));',
      );
    })();
  }

  /**
   * Deletes the oldest records until a queue of `count` records and `bytes` is within both limits
   * (inside the write's transaction); says how many went and their bytes. `maxBytes`: a tighter
   * byte limit than the configured one, for this once.
   */
  private dropOldest(
    count: number,
    bytes: number,
    maxBytes = this.limits.maxBytes,
  ): { dropped: number; freed: number } {
    const { maxRecords } = this.limits;
    if (count <= maxRecords && bytes <= maxBytes) return { dropped: 0, freed: 0 };
    let n = 0;
    let freed = 0;
    let last = -1;
    for (const r of this.walkOldest.iterate()) {
      if (count - n <= maxRecords && bytes - freed <= maxBytes) break;
      n++;
      freed += r.size;
      last = r.seq;
    }
    if (last >= 0) this.deleteUpTo.run(last);
    return { dropped: n, freed };
  }

  /**
   * Drops the oldest records, at least `bytes` of them, when the disk is short of space (the
   * housekeeper's last resort): counted and reported as dropped. Their pages are reused by the
   * records that come next; the write-ahead log is truncated.
   */
  shed(bytes: number): { dropped: number; freed: number } {
    this.flush();
    if (!this.db.open || bytes <= 0) return { dropped: 0, freed: 0 };
    const out = this.db.transaction(() =>
      this.dropOldest(this.count, this.bytes, Math.max(0, this.bytes - bytes)),
    )();
    this.count -= out.dropped;
    this.bytes -= out.freed;
    if (out.dropped) {
      this.droppedCount += out.dropped;
      this.hooks.onDropped?.(out.dropped);
    }
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return out;
  }

  private drop(deleted: { size: number }[]): void {
    this.count -= deleted.length;
    for (const d of deleted) this.bytes -= d.size;
  }

  /** Queues a record; the promise resolves when it is on disk (or was dropped and reported). */
  push(service: string, result: Result): Promise<void> {
    const id = randomUUID();
    const record = JSON.stringify({ id, '@t': `${service}.${result.type}`, '@ts': result.ts, ...result });
    return this.enqueue([id, service, result.ts, record, null, 1, 0]);
  }

  /** Queues a message for its own topic (the `publish` action), sent alone and in order with records. */
  pushMessage(
    source: string,
    topic: string,
    payload: string,
    qos: 0 | 1 | 2,
    retain: boolean,
    ts: number,
  ): Promise<void> {
    return this.enqueue([randomUUID(), source, ts, payload, topic, qos, retain ? 1 : 0]);
  }

  private enqueue(row: Pending): Promise<void> {
    this.pending.push(row);
    if (!this.accepted) {
      this.accepted = new Promise((resolve) => {
        this.settle = resolve;
      });
      setImmediate(() => this.flush());
    }
    const accepted = this.accepted;
    if (this.pending.length >= MAX_GROUP) this.flush();
    return accepted;
  }

  /** Writes what is pending in one transaction and settles its pushes. */
  flush(): void {
    const rows = this.pending;
    const settle = this.settle;
    this.pending = [];
    this.accepted = undefined;
    this.settle = undefined;
    if (rows.length && this.db.open) {
      try {
        this.writeGroup(rows);
        this.hooks.onAccepted?.();
      } catch (e) {
        this.droppedCount += rows.length;
        this.hooks.onWriteError?.(this.file, e);
      }
    }
    settle?.();
  }

  /** Up to `limit` accepted rows after `seq`, oldest first. */
  read(after: number, limit: number): Row[] {
    if (!this.db.open) return [];
    return this.readAfter.all(after, limit);
  }

  /** The broker has the rows `from`…`to`: they leave the queue (those dropped meanwhile are gone already). */
  ack(from: number, to: number): void {
    if (this.db.open) this.drop(this.deleteRange.all(from, to));
  }

  get dropped(): number {
    this.flush();
    return this.droppedCount;
  }

  /** Records accepted and not yet acknowledged. */
  get size(): number {
    this.flush();
    return this.count;
  }

  get sizeBytes(): number {
    this.flush();
    return this.bytes;
  }

  /** Timestamp of the oldest record waiting, if any. */
  oldest(): number | undefined {
    if (!this.db.open || this.count === 0) return undefined;
    return this.oldestAt.get()?.ts;
  }

  close(): void {
    this.flush();
    if (this.db.open) this.db.close();
  }
}
