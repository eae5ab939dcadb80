import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Bus } from './bus.js';
import type { Clock } from './clock.js';
import { errors, errorText } from './errors.js';
import type { Logger } from './logger.js';
import { OncePer } from './once-per.js';

/** Creates the data directory, readable by the agent's user only. */
function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw errors.STORAGE_OPEN(dir, errorText(e)).at('unit.data_dir');
  }
}

/**
 * Opens (creating, mode 0600) an SQLite database; SQLite gives its WAL and shared-memory files the
 * same mode. Its page cache is small by default: the agent's databases are written far more than read.
 */
export function openDatabase(
  file: string,
  options: Database.Options = {},
  cacheKiB: number | null = 512,
): Database.Database {
  try {
    ensureDataDir(path.dirname(file));
    closeSync(openSync(file, 'a', 0o600));
    const db = new Database(file, options);
    if (cacheKiB !== null) db.pragma(`cache_size = -${cacheKiB}`);
    return db;
  } catch (e) {
    throw errors.STORAGE_OPEN(file, errorText(e)).at('unit.data_dir');
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
export function lockDataDir(dir: string): () => void {
  const file = path.join(dir, 'agent.lock');
  // No pragma before the lock is taken: reading one would wait on the agent that holds it.
  const db = openDatabase(file, { timeout: 0 }, null);
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // What it holds (the pid) need not outlive a power cut: its writes are not synced, which on an
    // SD card saves several syncs at every start.
    db.pragma('synchronous = OFF');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); BEGIN EXCLUSIVE; DELETE FROM holder;');
    db.prepare('INSERT INTO holder VALUES (?)').run(process.pid);
    db.exec('COMMIT');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') throw errors.AGENT_LOCKED(dir).at('unit.data_dir');
    throw errors.STORAGE_OPEN(file, errorText(e)).at('unit.data_dir');
  }
  return () => db.close();
}
