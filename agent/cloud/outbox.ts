import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from '../core/storage.js';
import type { RecordSink, Result } from '../core/types.js';

/** Most records one transaction takes; past it a batch is written at once. */
const MAX_BATCH = 2000;

type Row = [id: string, service: string, ts: number, record: string];

/**
 * Records bound for the cloud, on disk before they count as accepted (SQLite, WAL, synchronous
 * FULL: a committed record survives a power cut). Pushes are grouped: the records pushed in one
 * turn of the event loop (up to MAX_BATCH) go in one transaction with one sync, and each push's
 * promise resolves once its record is synced: "accepted" means on disk. Until the cloud link
 * drains it, the queue only fills, oldest records dropped past `maxRecords`.
 */
export class Outbox implements RecordSink {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string, number, string]>;
  private readonly trim: Database.Statement<[number]>;
  private readonly writeBatch: (rows: Row[]) => void;
  private sinceTrim = 0;
  private pending: Row[] = [];
  private settle?: () => void;
  private accepted?: Promise<void>;
  private droppedCount = 0;

  readonly file: string;

  constructor(
    dataDir: string,
    private readonly maxRecords = 1_000_000,
    /** A record that cannot be written (a full disk) is dropped, counted and reported here. */
    private readonly onWriteError: (file: string, e: unknown) => void = () => {},
  ) {
    this.file = path.join(dataDir, 'outbox.db');
    this.db = openDatabase(this.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, service TEXT NOT NULL, ts INTEGER NOT NULL, record TEXT NOT NULL)',
    );
    this.insert = this.db.prepare('INSERT INTO outbox (id, service, ts, record) VALUES (?, ?, ?, ?)');
    this.trim = this.db.prepare('DELETE FROM outbox WHERE seq <= (SELECT MAX(seq) FROM outbox) - ?');
    this.writeBatch = this.db.transaction((rows: Row[]) => {
      for (const r of rows) this.insert.run(...r);
      this.sinceTrim += rows.length;
      if (this.sinceTrim >= 1000) {
        this.sinceTrim = 0;
        this.droppedCount += this.trim.run(this.maxRecords).changes;
      }
    });
  }

  /** Queues a record; the promise resolves when it is on disk (or was dropped and reported). */
  push(service: string, result: Result): Promise<void> {
    const id = randomUUID();
    this.pending.push([
      id,
      service,
      result.ts,
      JSON.stringify({ id, '@t': `${service}.${result.type}`, '@ts': result.ts, ...result }),
    ]);
    if (!this.accepted) {
      this.accepted = new Promise((resolve) => {
        this.settle = resolve;
      });
      setImmediate(() => this.flush());
    }
    const accepted = this.accepted;
    if (this.pending.length >= MAX_BATCH) this.flush();
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
        this.writeBatch(rows);
      } catch (e) {
        this.droppedCount += rows.length;
        this.onWriteError(this.file, e);
      }
    }
    settle?.();
  }

  get dropped(): number {
    this.flush();
    return this.droppedCount;
  }

  get size(): number {
    this.flush();
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
  }

  close(): void {
    this.flush();
    if (this.db.open) this.db.close();
  }
}
