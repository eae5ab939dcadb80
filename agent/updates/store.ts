import path from 'node:path';
import type Database from 'better-sqlite3';
import type { UpdateKindT } from '../../schemas/common.js';
import { openDatabase } from '../core/storage.js';
import {
  Installed,
  type InstalledT,
  itemKey,
  MachineRecord,
  type MachineRecordT,
  type SectionT,
} from './model.js';

const IDLE: MachineRecordT = { state: 'noUpdate', update: null, pending: null, lastKey: null, error: null };

/**
 * The updater's durable state in `data_dir/updates.db`: each machine's record and the items the
 * unit has installed. Writes are synchronous, so a transition is on disk before anyone hears of it.
 */
export class UpdateStore {
  private readonly db: Database.Database;
  private readonly put: Database.Statement;
  private readonly putItem: Database.Statement;
  private readonly dropItem: Database.Statement;
  private readonly getMeta: Database.Statement<[string], { value: string }>;
  private readonly putMeta: Database.Statement<[string, string]>;

  constructor(dataDir: string) {
    this.db = openDatabase(path.join(dataDir, 'updates.db'), {}, 64);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS machines (kind TEXT PRIMARY KEY, record TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS installed (section TEXT NOT NULL, key TEXT NOT NULL, item TEXT NOT NULL,
        PRIMARY KEY (section, key));
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
    this.put = this.db.prepare('INSERT OR REPLACE INTO machines (kind, record) VALUES (?, ?)');
    this.putItem = this.db.prepare('INSERT OR REPLACE INTO installed (section, key, item) VALUES (?, ?, ?)');
    this.dropItem = this.db.prepare('DELETE FROM installed WHERE section = ? AND key = ?');
    this.getMeta = this.db.prepare('SELECT value FROM meta WHERE key = ?');
    this.putMeta = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  }

  /** The last desired status taken: its `sequence` (0: none yet) and its digest. */
  get lastDesired(): { sequence: number; digest: string } {
    return this.meta('desired') ?? { sequence: 0, digest: '' };
  }

  set lastDesired(d: { sequence: number; digest: string }) {
    this.setMeta('desired', d);
  }

  /** A value kept beside the machines (the wanted instances, a service's proven version). */
  meta<T>(key: string): T | undefined {
    const v = this.getMeta.get(key)?.value;
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  setMeta(key: string, value: unknown): void {
    this.putMeta.run(key, JSON.stringify(value));
  }

  machine(kind: UpdateKindT): MachineRecordT {
    const row = this.db.prepare('SELECT record FROM machines WHERE kind = ?').get(kind) as
      | { record: string }
      | undefined;
    return row ? MachineRecord.parse(JSON.parse(row.record)) : structuredClone(IDLE);
  }

  save(kind: UpdateKindT, record: MachineRecordT): void {
    this.put.run(kind, JSON.stringify(record));
  }

  installed(section?: SectionT): InstalledT[] {
    const rows = (
      section
        ? this.db.prepare('SELECT item FROM installed WHERE section = ?').all(section)
        : this.db.prepare('SELECT item FROM installed').all()
    ) as { item: string }[];
    return rows.map((r) => Installed.parse(JSON.parse(r.item)));
  }

  setInstalled(item: InstalledT): void {
    this.putItem.run(item.section, itemKey(item), JSON.stringify(item));
  }

  removeInstalled(item: Parameters<typeof itemKey>[0]): void {
    this.dropItem.run(item.section, itemKey(item));
  }

  close(): void {
    this.db.close();
  }
}
