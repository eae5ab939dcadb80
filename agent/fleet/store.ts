import type Database from 'better-sqlite3';
import { openDatabase } from '../core/storage.js';
import type { Share } from './waves.js';

/** What is rolled out: a signed envelope, and the number its acknowledgement names. */
export interface Payload {
  kind: 'bundle' | 'desired';
  /** A bundle's version or a desired status's sequence. */
  key: number;
  envelope: string;
}

export type RolloutState = 'running' | 'done' | 'aborted' | 'expired';

export interface Rollout {
  id: string;
  created: number;
  prefix: string;
  payload: Payload;
  rollback: Payload | null;
  /** Units reached after each wave, cumulative. */
  waves: number[];
  maxFailures: Share;
  waveTimeout: number;
  /** When units not reached yet are given up (ms since the epoch). */
  deadline: number;
  /** The wave running, or the last one run. */
  wave: number;
  state: RolloutState;
  reason: string | null;
}

export type TargetState =
  | 'waiting'
  | 'sent'
  | 'applied'
  | 'failed'
  | 'skipped'
  | 'unreached'
  | 'rolling_back'
  | 'rolled_back'
  | 'rollback_failed';

export interface Target {
  unit: string;
  prefix: string;
  position: number;
  wave: number;
  state: TargetState;
  detail: string | null;
  updated: number;
}

/** Row shapes as SQLite keeps them. */
type RolloutRow = Omit<Rollout, 'payload' | 'rollback' | 'waves' | 'maxFailures'> & {
  payload: string;
  rollback: string | null;
  waves: string;
  max_failures: string;
  wave_timeout: number;
};

/**
 * Rollouts and each unit's part in them, in a local SQLite file (DESIGN §15): every change is on
 * disk before the command acts on it, so `--resume` continues where an interrupted run stopped.
 */
export class RolloutStore {
  private readonly db: Database.Database;

  constructor(readonly file: string) {
    this.db = openDatabase(file, {}, 256);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS rollouts (
        id TEXT PRIMARY KEY, created INTEGER NOT NULL, prefix TEXT NOT NULL, payload TEXT NOT NULL,
        rollback TEXT, waves TEXT NOT NULL, max_failures TEXT NOT NULL, wave_timeout INTEGER NOT NULL,
        deadline INTEGER NOT NULL, wave INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT);
      CREATE TABLE IF NOT EXISTS targets (
        rollout TEXT NOT NULL, unit TEXT NOT NULL, prefix TEXT NOT NULL, position INTEGER NOT NULL,
        wave INTEGER NOT NULL, state TEXT NOT NULL, detail TEXT, updated INTEGER NOT NULL,
        PRIMARY KEY (rollout, unit));`);
  }

  /** A new rollout of `units` (in wave order), all waiting. */
  create(r: Omit<Rollout, 'wave' | 'state' | 'reason'>, units: { id: string; prefix: string }[]): Rollout {
    const rollout: Rollout = { ...r, wave: 0, state: 'running', reason: null };
    const put = this.db.prepare(
      'INSERT INTO targets (rollout, unit, prefix, position, wave, state, updated) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO rollouts (id, created, prefix, payload, rollback, waves, max_failures, wave_timeout, deadline, wave, state, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          rollout.id,
          rollout.created,
          rollout.prefix,
          JSON.stringify(rollout.payload),
          rollout.rollback && JSON.stringify(rollout.rollback),
          JSON.stringify(rollout.waves),
          JSON.stringify(rollout.maxFailures),
          rollout.waveTimeout,
          rollout.deadline,
          0,
          'running',
          null,
        );
      units.forEach((u, i) => {
        put.run(
          rollout.id,
          u.id,
          u.prefix,
          i,
          r.waves.findIndex((end) => i < end),
          'waiting',
          r.created,
        );
      });
    })();
    return rollout;
  }

  get(id: string): Rollout | undefined {
    const row = this.db.prepare('SELECT * FROM rollouts WHERE id = ?').get(id) as RolloutRow | undefined;
    return row && fromRow(row);
  }

  list(): Rollout[] {
    return (this.db.prepare('SELECT * FROM rollouts ORDER BY created').all() as RolloutRow[]).map(fromRow);
  }

  update(id: string, fields: Partial<Pick<Rollout, 'wave' | 'state' | 'reason'>>): void {
    for (const [k, v] of Object.entries(fields))
      this.db.prepare(`UPDATE rollouts SET ${k} = ? WHERE id = ?`).run(v, id);
  }

  targets(id: string): Target[] {
    return this.db
      .prepare(
        'SELECT unit, prefix, position, wave, state, detail, updated FROM targets WHERE rollout = ? ORDER BY position',
      )
      .all(id) as Target[];
  }

  setTarget(id: string, unit: string, state: TargetState, detail: string | null, at: number): void {
    this.db
      .prepare('UPDATE targets SET state = ?, detail = ?, updated = ? WHERE rollout = ? AND unit = ?')
      .run(state, detail, at, id, unit);
  }

  /** How many of a rollout's units are in each state. */
  counts(id: string): Record<string, number> {
    const rows = this.db
      .prepare('SELECT state, COUNT(*) AS n FROM targets WHERE rollout = ? GROUP BY state')
      .all(id) as { state: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(row: RolloutRow): Rollout {
  return {
    id: row.id,
    created: row.created,
    prefix: row.prefix,
    payload: JSON.parse(row.payload) as Payload,
    rollback: row.rollback === null ? null : (JSON.parse(row.rollback) as Payload),
    waves: JSON.parse(row.waves) as number[],
    maxFailures: JSON.parse(row.max_failures) as Share,
    waveTimeout: row.wave_timeout,
    deadline: row.deadline,
    wave: row.wave,
    state: row.state,
    reason: row.reason,
  };
}
