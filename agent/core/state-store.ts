import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * Persistent key/value state (SQLite in `unit.data_dir`), set by actions and read as `state.<key>`.
 * Values are JSON; `tree` mirrors the table in memory for rules to read without a query.
 */
export class StateStore {
  readonly tree: Record<string, unknown> = {};
  readonly db: Database.Database;
  private readonly upsert: Database.Statement<[string, string, number]>;
  private readonly remove: Database.Statement<[string]>;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(path.join(dataDir, 'state.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated INTEGER NOT NULL)',
    );
    this.upsert = this.db.prepare(
      'INSERT INTO state (key, value, updated) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated',
    );
    this.remove = this.db.prepare('DELETE FROM state WHERE key = ?');
    for (const row of this.db.prepare('SELECT key, value FROM state').all() as {
      key: string;
      value: string;
    }[]) {
      this.tree[row.key] = JSON.parse(row.value);
    }
  }

  get(key: string): unknown {
    return this.tree[key];
  }

  set(key: string, value: unknown, ts = Date.now()): void {
    this.upsert.run(key, JSON.stringify(value ?? null), ts);
    this.tree[key] = value;
  }

  delete(key: string): void {
    this.remove.run(key);
    delete this.tree[key];
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
