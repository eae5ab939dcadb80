import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from '../core/storage.js';
import type { RecordSink, Result } from '../core/types.js';

/**
 * Records bound for the cloud, on disk before they count as accepted (SQLite, WAL). Until the
 * cloud link drains it, the queue only fills, oldest records dropped past `maxRecords`.
 */
export class Outbox implements RecordSink {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string, number, string]>;
  private readonly trim: Database.Statement<[number]>;
  private sinceTrim = 0;
  dropped = 0;

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
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, service TEXT NOT NULL, ts INTEGER NOT NULL, record TEXT NOT NULL)',
    );
    this.insert = this.db.prepare('INSERT INTO outbox (id, service, ts, record) VALUES (?, ?, ?, ?)');
    this.trim = this.db.prepare('DELETE FROM outbox WHERE seq <= (SELECT MAX(seq) FROM outbox) - ?');
  }

  push(service: string, result: Result): void {
    const id = randomUUID();
    try {
      this.insert.run(
        id,
        service,
        result.ts,
        JSON.stringify({ id, '@t': `${service}.${result.type}`, '@ts': result.ts, ...result }),
      );
      if (++this.sinceTrim >= 1000) {
        this.sinceTrim = 0;
        this.dropped += this.trim.run(this.maxRecords).changes;
      }
    } catch (e) {
      this.dropped++;
      this.onWriteError(this.file, e);
    }
  }

  get size(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
