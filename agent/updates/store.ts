import path from 'node:path';
import type Database from 'better-sqlite3';
import * as z from 'zod';
import type { UpdateKindT } from '../../schemas/common.js';
import { readJsonFile, writeDurably } from '../core/durable-file.js';
import { errors, errorText, type PitcrewError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isDamaged, openOrReplace, openWal, type StorageFaults } from '../core/storage.js';
import {
  Installed,
  type InstalledT,
  itemKey,
  MachineRecord,
  type MachineRecordT,
  type SectionT,
} from './model.js';

const IDLE: MachineRecordT = { state: 'noUpdate', update: null, pending: null, lastKey: null, error: null };

/** The last desired status taken: its `sequence` (0: none yet) and its digest. */
const Floor = z.object({ sequence: z.number(), digest: z.string() });
type Floor = z.infer<typeof Floor>;

const NONE: Floor = { sequence: 0, digest: '' };

const sameFloor = (a: Floor, b: Floor) => a.sequence === b.sequence && a.digest === b.digest;

/** Where the store says what went wrong with its files. */
export interface StoreFaults {
  storage: Pick<StorageFaults, 'damaged' | 'report'>;
  log: Logger;
}

/**
 * The updater's durable state in `data_dir/updates.db`: each machine's record and the items the
 * unit has installed. Writes are synchronous, so a transition is on disk before anyone hears of it.
 *
 * The replay floor (the last desired status taken) is also kept in a file of its own beside it,
 * `updates-floor.json`, written durably before the database: it is the one thing a damaged
 * database would lose that nothing else can tell again. So a damaged `updates.db` is moved aside
 * and begun again, as the agent's other databases are, with replays still refused; what it held
 * besides (the items installed, a machine's step) the next desired status installs again.
 */
export class UpdateStore {
  private readonly db: Database.Database;
  private readonly put: Database.Statement;
  private readonly putItem: Database.Statement;
  private readonly dropItem: Database.Statement;
  private readonly getMeta: Database.Statement<[string], { value: string }>;
  private readonly putMeta: Database.Statement<[string, string]>;
  private readonly floorFile: string;
  private floor: Floor;

  constructor(dataDir: string, faults: StoreFaults) {
    const file = path.join(dataDir, 'updates.db');
    this.floorFile = path.join(dataDir, 'updates-floor.json');
    const kept = this.readFloor(faults.log);
    this.db = kept
      ? openOrReplace(
          file,
          () => setUp(file),
          (f, why) => faults.storage.damaged(f, why),
        )
      : setUpOrExplain(file, this.floorFile);
    this.put = this.db.prepare('INSERT OR REPLACE INTO machines (kind, record) VALUES (?, ?)');
    this.putItem = this.db.prepare('INSERT OR REPLACE INTO installed (section, key, item) VALUES (?, ?, ?)');
    this.dropItem = this.db.prepare('DELETE FROM installed WHERE section = ? AND key = ?');
    this.getMeta = this.db.prepare('SELECT value FROM meta WHERE key = ?');
    this.putMeta = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    // The higher of the two: a power cut between the file's write and the database's leaves the file ahead.
    const inDb = this.meta<Floor>('desired') ?? NONE;
    this.floor = kept && kept.sequence >= inDb.sequence ? kept : inDb;
    // A unit from before the file, or one whose file was lost: it is written now, while the database
    // is whole; on a full card, said, and the database's copy serves until the next desired status.
    if (!kept || !sameFloor(kept, this.floor)) {
      try {
        this.writeFloor(this.floor);
      } catch (e) {
        faults.storage.report(this.floorFile, e);
      }
    }
  }

  /** The floor's file, or undefined when there is none or it cannot be read (said: the database's copy is used). */
  private readFloor(log: Logger): Floor | undefined {
    try {
      const f = readJsonFile(this.floorFile);
      if (f === undefined) return undefined;
      const floor = Floor.safeParse(f);
      if (floor.success) return floor.data;
      throw errors.STATE_UNREADABLE(this.floorFile, 'not a sequence and a digest');
    } catch (e) {
      log.warn({ code: (e as PitcrewError).code }, errorText(e));
      return undefined;
    }
  }

  private writeFloor(f: Floor): void {
    writeDurably(this.floorFile, JSON.stringify(f));
  }

  /** The last desired status taken: its `sequence` (0: none yet) and its digest. */
  get lastDesired(): Floor {
    return this.floor;
  }

  set lastDesired(d: Floor) {
    if (sameFloor(d, this.floor)) return;
    this.writeFloor(d);
    this.setMeta('desired', d);
    this.floor = d;
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

const TABLES = `CREATE TABLE IF NOT EXISTS machines (kind TEXT PRIMARY KEY, record TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS installed (section TEXT NOT NULL, key TEXT NOT NULL, item TEXT NOT NULL,
    PRIMARY KEY (section, key));
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`;

const setUp = (file: string) => openWal(file, 'FULL', (db) => db.exec(TABLES), 64);

/**
 * Without the floor's file a damaged database cannot be begun again: the unit could no longer
 * tell a replayed desired status from a new one. The start stops, saying what to do.
 */
function setUpOrExplain(file: string, floorFile: string): Database.Database {
  try {
    return setUp(file);
  } catch (e) {
    if (!isDamaged(e)) throw e;
    throw errors.UPDATES_FLOOR_LOST(file, errorText((e as { cause?: unknown }).cause ?? e), floorFile);
  }
}
