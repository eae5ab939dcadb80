import path from 'node:path';
import type Database from 'better-sqlite3';
import { openWal } from './storage.js';

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

/** Where a table's rows are written through. */
interface Rows {
  load(): Iterable<[string, unknown]>;
  put(key: string, value: unknown): void;
  drop(key: string): void;
}

/** A SQLite table of JSON values. */
function sqliteRows(db: Database.Database, table: string): Rows {
  db.exec(
    `CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated INTEGER NOT NULL)`,
  );
  const upsert = db.prepare<[string, string, number]>(
    `INSERT INTO ${table} (key, value, updated) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated`,
  );
  const remove = db.prepare<[string]>(`DELETE FROM ${table} WHERE key = ?`);
  const all = db.prepare<[], { key: string; value: string }>(`SELECT key, value FROM ${table}`);
  return {
    load: () => all.all().map((row) => [row.key, JSON.parse(row.value)] as [string, unknown]),
    put: (key, value) => upsert.run(key, JSON.stringify(value ?? null), Date.now()),
    drop: (key) => remove.run(key),
  };
}

/**
 * A key/value namespace held in memory (its `tree`), written through to `rows` when it has them.
 * A write that fails (a full card) is handed to `failed`, and the value is still taken: the
 * rules go on with it, and it is on the disk at its next write once there is room.
 */
class Table implements KeyValue {
  /** The values as rules and templates read them; the one in-memory copy of the table. */
  readonly tree = bare();

  constructor(
    private readonly rows?: Rows,
    private readonly failed: (e: unknown) => void = (e) => {
      throw e;
    },
  ) {
    for (const [key, value] of rows?.load() ?? []) this.tree[key] = value;
  }

  get(key: string): unknown {
    return this.tree[key];
  }

  set(key: string, value: unknown): void {
    this.write(() => this.rows?.put(key, value));
    this.tree[key] = value;
  }

  delete(key: string): void {
    this.write(() => this.rows?.drop(key));
    delete this.tree[key];
  }

  private write(change: () => void): void {
    try {
      change();
    } catch (e) {
      this.failed(e);
    }
  }

  entries(): [string, unknown][] {
    return Object.entries(this.tree);
  }
}

/** `state.<key>` values and the agent's own bookkeeping, in two tables. */
class State implements AgentState {
  readonly tree: Record<string, unknown>;

  constructor(
    private readonly values: Table,
    readonly internal: KeyValue,
  ) {
    this.tree = values.tree;
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
}

/** Where a unit's persistent state is. */
export const stateFile = (dataDir: string) => path.join(dataDir, 'state.db');

/**
 * Persistent state (SQLite in `unit.data_dir`): written through, so a crash loses nothing that was
 * set. A write that fails goes to `failed` (the agent says it as a storage error); by default it throws.
 */
export class StateStore extends State {
  private readonly db: Database.Database;

  constructor(dataDir: string, failed?: (file: string, e: unknown) => void) {
    const file = stateFile(dataDir);
    const onFail = failed && ((e: unknown) => failed(file, e));
    let tables!: [Table, Table];
    // A small page cache: the values are read once, at the start, into the tree; after it only written.
    const db = openWal(
      file,
      'NORMAL',
      (db) => {
        tables = [new Table(sqliteRows(db, 'state'), onFail), new Table(sqliteRows(db, 'internal'), onFail)];
      },
      64,
    );
    super(...tables);
    this.db = db;
  }

  /** Writes the log into the database file and syncs it (its commits are not synced one by one). */
  checkpoint(): void {
    if (this.db.open) this.db.pragma('wal_checkpoint(FULL)');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** State that lives only in memory: for dry runs (`pitcrew replay`). */
export class MemoryState extends State {
  constructor() {
    super(new Table(), new Table());
  }
}
