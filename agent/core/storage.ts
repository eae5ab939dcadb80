import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Bus } from './bus.js';
import type { Clock } from './clock.js';
import { errors, errorText, type PitcrewError } from './errors.js';
import type { Logger } from './logger.js';
import { OncePer } from './once-per.js';
import { withWal } from './sqlite-wal.js';

/** Creates the data directory, readable by the agent's user only. */
function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw errors.STORAGE_OPEN(dir, errorText(e)).at('unit.data_dir');
  }
}

/**
 * Whether the file system that holds `dir` (or would: the nearest directory that is) takes no
 * writes: a failing card, which the kernel remounts read-only.
 */
export function readOnly(dir: string): boolean {
  let at = dir;
  while (!existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  try {
    accessSync(at, constants.W_OK);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/** The largest database read into memory from a read-only card, its file and log together: a queue that grew offline stays on it. */
const MEMORY_COPY_MAX = 16 * 1024 * 1024;

/**
 * A database on a read-only card, as an in-memory copy of what its file and its log hold (what a
 * crash left in the log alone too): the agent runs on, what it writes kept until it stops. One
 * that is missing, too large or not readable as a database gives an empty one.
 */
function memoryCopy(file: string): Database.Database {
  try {
    const logSize = statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    if (statSync(file).size + logSize <= MEMORY_COPY_MAX) {
      const bytes = readFileSync(file);
      const withLog = logSize > 0 ? withWal(bytes, readFileSync(`${file}-wal`)) : bytes;
      // Its header's WAL mode, which a database in memory cannot take, read as a rollback journal's.
      withLog[18] = 1;
      withLog[19] = 1;
      const db = new Database(withLog);
      db.prepare('SELECT count(*) FROM sqlite_master').get();
      return db;
    }
  } catch {
    // Missing or damaged: begun empty, as below.
  }
  return new Database(':memory:');
}

/**
 * Opens (creating, mode 0600) an SQLite database; SQLite gives its WAL and shared-memory files the
 * same mode. Its page cache is small by default: the agent's databases are written far more than
 * read. `exclusive`: held by this connection alone from its first statement (openWal says why).
 * On a read-only card, a copy in memory (`db.memory`): the agent says so once (`StorageFaults.readOnly`).
 */
export function openDatabase(
  file: string,
  options: Database.Options = {},
  cacheKiB: number | null = 512,
  exclusive = false,
): Database.Database {
  if (readOnly(path.dirname(file))) return memoryCopy(file);
  try {
    ensureDataDir(path.dirname(file));
    closeSync(openSync(file, 'a', 0o600));
    const db = new Database(file, options);
    if (exclusive) db.pragma('locking_mode = EXCLUSIVE');
    if (cacheKiB !== null) db.pragma(`cache_size = -${cacheKiB}`);
    return db;
  } catch (e) {
    throw openFailed(file, e);
  }
}

/**
 * Opens a database of the agent's in WAL mode at the sync level given, then `setUp` (its tables);
 * it is closed again when any of that fails, so a damaged one can be moved aside (openOrReplace).
 * It is held exclusively, as the agent holds its data directory: SQLite then keeps the log's index
 * in memory, not in a `-shm` file it must create at every open, which a full card refuses; so a
 * unit whose card is full still starts, its writes failing until there is room again.
 */
export function openWal(
  file: string,
  synchronous: 'FULL' | 'NORMAL',
  setUp: (db: Database.Database) => void,
  cacheKiB = 512,
): Database.Database {
  const db = openDatabase(file, {}, cacheKiB, true);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    setUp(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** PITCREW_STORAGE_OPEN for `file`, with SQLite's own error as its cause (`isDamaged` reads its code). */
const openFailed = (file: string, e: unknown) =>
  Object.assign(errors.STORAGE_OPEN(file, errorText(e)).at('unit.data_dir'), { cause: e });

/** Whether SQLite said the file is not a database, or is damaged (not a disk, space or permission problem). */
export const isDamaged = (e: unknown): boolean => {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^SQLITE_(NOTADB|CORRUPT)/.test(code)) return true;
  const cause = (e as { cause?: unknown }).cause;
  return cause !== undefined && cause !== e && isDamaged(cause);
};

/**
 * Builds what keeps its data in the database `file` (`open` opens it, and closes it if it then
 * fails). A file that is not a database or is damaged (a failing card; a power cut where writes
 * were not synced) is moved aside with its journals, as `<file>.damaged-<ms>` (replacing one
 * moved aside before), and `open` runs again on a new one; `moved` says so. A unit then starts
 * without what the file held, and says it, rather than not at all.
 */
export function openOrReplace<T>(
  file: string,
  open: () => T,
  moved: (file: string, damaged: PitcrewError) => void,
  now = Date.now(),
): T {
  try {
    return open();
  } catch (e) {
    if (!isDamaged(e)) throw e;
    const aside = `${file}.damaged-${now}`;
    // One damaged copy is kept per database: a failing card must not fill up with them.
    const base = path.basename(file);
    for (const name of readdirSync(path.dirname(file)))
      if (name.startsWith(`${base}.damaged-`)) rmSync(path.join(path.dirname(file), name), { force: true });
    for (const part of ['', '-wal', '-shm', '-journal'])
      if (existsSync(file + part)) renameSync(file + part, aside + part);
    moved(file, errors.STORAGE_DAMAGED(file, errorText((e as { cause?: unknown }).cause ?? e), aside));
    return open();
  }
}

/** How often one file's write failures are logged and announced. */
const REPORT_EVERY_MS = 10_000;

/**
 * Write failures (a full disk, a read-only card) made loud: counted per file, logged and emitted
 * as `system/storage/error {file, error, failures}` at most once per REPORT_EVERY_MS per file.
 */
export class StorageFaults {
  private readonly files = new Map<string, { failures: number; last: string }>();
  private readonly reports: OncePer;

  constructor(
    private readonly bus: Bus,
    clock: Clock,
    private readonly log: Logger,
  ) {
    this.reports = new OncePer(clock, REPORT_EVERY_MS);
  }

  /** A data directory on a read-only card, its databases run from memory: said once, and kept in the status. */
  readOnly(dir: string): void {
    this.said(dir, errors.STORAGE_READ_ONLY(dir));
  }

  /** A damaged database moved aside at a start (`openOrReplace`): said once, and kept in the status. */
  damaged(file: string, damaged: PitcrewError): void {
    this.said(file, damaged);
  }

  private said(file: string, why: PitcrewError): void {
    this.files.set(file, { failures: 1, last: why.message });
    this.log.error({ file, code: why.code }, why.message);
    this.bus.emit('system/storage/error', { file, error: why.message, failures: 1 }, 'agent');
  }

  report(file: string, e: unknown): void {
    const error = errorText(e);
    const f = this.files.get(file) ?? { failures: 0, last: error };
    f.failures++;
    f.last = error;
    this.files.set(file, f);
    if (!this.reports.due(file)) return;
    const failed = errors.STORAGE_WRITE(file, error);
    this.log.error({ file, failures: f.failures, code: failed.code }, failed.message);
    this.bus.emit('system/storage/error', { file, error, failures: f.failures }, 'agent');
  }

  status(): Record<string, { failures: number; last: string }> {
    return Object.fromEntries([...this.files].map(([k, v]) => [k, { ...v }]));
  }
}

/**
 * One agent per data directory: an exclusive SQLite lock held for the process's life (the
 * kernel releases it when the process ends, however it ends).
 */
export function lockDataDir(dir: string, moved: (file: string, damaged: PitcrewError) => void): () => void {
  const file = path.join(dir, 'agent.lock');
  // What it holds matters to no one: a damaged one (its writes are not synced) is replaced.
  return openOrReplace(file, () => lock(file), moved);
}

function lock(file: string): () => void {
  // No pragma before the lock is taken: reading one would wait on the agent that holds it.
  const db = openDatabase(file, { timeout: 0 }, null);
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // What it holds (the pid) need not outlive a power cut: its writes are not synced, which on an
    // SD card saves several syncs at every start, and not journalled, so they take no room on the
    // disk: a unit whose card is full still starts, and its housekeeping can free it.
    db.pragma('synchronous = OFF');
    db.pragma('journal_mode = MEMORY');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); BEGIN EXCLUSIVE; DELETE FROM holder;');
    db.prepare('INSERT INTO holder VALUES (?)').run(process.pid);
    db.exec('COMMIT');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY')
      throw errors.AGENT_LOCKED(path.dirname(file)).at('unit.data_dir');
    throw openFailed(file, e);
  }
  return () => db.close();
}
