import path from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from './storage.js';

/** A key/value namespace. */
export interface KeyValue {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  entries(): [string, unknown][];
}

/** What actions and rules use: `state.<key>` values, and the agent's own bookkeeping (rule timers). */
export interface AgentState {
  /** The values as a plain object, for rules and templates to read. */
  readonly tree: Record<string, unknown>;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  readonly internal: KeyValue;
}

/** A plain object with no prototype: keys such as `__proto__` or `constructor` are only keys. */
const bare = (): Record<string, unknown> => Object.create(null) as Record<string, unknown>;

class SqliteTable implements KeyValue {
  private readonly upsert: Database.Statement<[string, string, number]>;
  private readonly remove: Database.Statement<[string]>;
  /** The values as rules and templates read them; the one in-memory copy of the table. */
  readonly tree = bare();

  constructor(db: Database.Database, table: string) {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated INTEGER NOT NULL)`,
    );
    this.upsert = db.prepare(
      `INSERT INTO ${table} (key, value, updated) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated`,
    );
    this.remove = db.prepare(`DELETE FROM ${table} WHERE key = ?`);
    for (const row of db.prepare(`SELECT key, value FROM ${table}`).all() as {
      key: string;
      value: string;
    }[]) {
      this.tree[row.key] = JSON.parse(row.value);
    }
  }

  get(key: string): unknown {
    return this.tree[key];
  }

  set(key: string, value: unknown): void {
    this.upsert.run(key, JSON.stringify(value ?? null), Date.now());
    this.tree[key] = value;
  }

  delete(key: string): void {
    this.remove.run(key);
    delete this.tree[key];
  }

  entries(): [string, unknown][] {
    return Object.entries(this.tree);
  }
}

/** Persistent state (SQLite in `unit.data_dir`): written through, so a crash loses nothing that was set. */
export class StateStore implements AgentState {
  readonly tree: Record<string, unknown>;
  readonly internal: KeyValue;
  private readonly db: Database.Database;
  private readonly values: SqliteTable;

  constructor(dataDir: string) {
    this.db = openDatabase(path.join(dataDir, 'state.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.values = new SqliteTable(this.db, 'state');
    this.internal = new SqliteTable(this.db, 'internal');
    this.tree = this.values.tree;
  }

  get(key: string): unknown {
    return this.values.get(key);
  }

  set(key: string, value: unknown): void {
    this.values.set(key, value);
  }

  delete(key: string): void {
    this.values.delete(key);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

class MemoryTable implements KeyValue {
  readonly tree = bare();
  get(key: string) {
    return this.tree[key];
  }
  set(key: string, value: unknown) {
    this.tree[key] = value;
  }
  delete(key: string) {
    delete this.tree[key];
  }
  entries(): [string, unknown][] {
    return Object.entries(this.tree);
  }
}

/** State that lives only in memory: for dry runs (`pitcrew replay`). */
export class MemoryState implements AgentState {
  private readonly values = new MemoryTable();
  readonly tree = this.values.tree;
  readonly internal: KeyValue = new MemoryTable();
  set(key: string, value: unknown): void {
    this.values.set(key, value);
  }
  delete(key: string): void {
    this.values.delete(key);
  }
}
