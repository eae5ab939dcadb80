import { lstat, readdir, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { STORAGE_KINDS, type StorageKind, type StorageT } from '../../schemas/storage.js';
import type { Timer } from '../core/clock.js';
import { errorText } from '../core/errors.js';
import type { DiskStatus, Part, PartContext, StorageControl } from '../parts/context.js';
import { type BootClock, ClockSteps } from './clock-steps.js';
import { expired, floorBytes, type Kept, toFree } from './retention.js';

/** Where a kind of data lives, which of its files count, and how many of the newest always stay. */
interface Place {
  kind: StorageKind;
  dir: string;
  match?: RegExp;
  keepNewest?: number;
  /** Its items are the directories `match` names (a bundle and the files it carried), each taken whole. */
  whole?: boolean;
  /**
   * Which of its items is newer, where not the later mtime: a unit without a real-time clock writes
   * files with a wrong time until it has synced, so a name that says its age is trusted first.
   */
  age?: (name: string, mtime: number) => number;
  /** Paths never taken, whatever their age: what runs now, or may run again. */
  inUse?: () => string[];
}

/** A bundle's version, from its directory's name: versions only grow. */
const bundleVersion = (name: string) => Number(name.slice('bundle-'.length));
const LAST_KNOWN_GOOD = 'last-known-good.json';
/** Where the wall clock's steps in this boot are kept (ClockSteps). */
const CLOCK_STEPS = 'clock-steps.json';

/** Depth a kind's directory is walked to (recorded drives in dated folders, say). */
const MAX_DEPTH = 4;

/**
 * Disk housekeeping (DESIGN §13): every `every`, each kind's retention (age, size), then the
 * free-space floor of `data_dir`'s filesystem: below it, the oldest files of the lowest-priority
 * kind go first (logs, recorded drives, downloads no update wants, old bundles, old last-known-good
 * copies), and the outbox's oldest records only when nothing else is left. Only regular files the
 * housekeeper found itself are deleted, never through a symbolic link; what an update is
 * downloading, the bundle that runs, the one a revert would return to, the newest bundle (by
 * version) and the last-known-good config are never taken, whatever their files' times say.
 */
export class Housekeeper implements Part, StorageControl {
  readonly name = 'storage';
  readonly provides: Part['provides'] = { storage: this };
  private timer?: Timer;
  private running?: Promise<void>;
  private low = false;
  private disk: DiskStatus = {
    free: 0,
    total: 0,
    floor: 0,
    low: false,
    cleaned: { files: 0, bytes: 0, records: 0 },
  };

  private readonly steps: ClockSteps;

  constructor(
    private readonly cx: PartContext<StorageT>,
    kernel?: BootClock,
  ) {
    this.steps = new ClockSteps(
      path.join(cx.dataDir, CLOCK_STEPS),
      (file, e) => cx.storage.report(file, e),
      kernel,
    );
  }

  async start(): Promise<void> {
    await this.pass();
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    await this.running;
  }

  status(): DiskStatus {
    return this.disk;
  }

  /** One look at the disk; the next is armed after it, so two never overlap. */
  pass(): Promise<void> {
    this.running = this.clean()
      .catch((e) => this.cx.log.error(`storage housekeeping: ${errorText(e)}`))
      .finally(() => {
        this.timer = this.cx.clock.setTimeout(() => void this.pass(), this.cx.section.every);
      });
    return this.running;
  }

  private places(): Place[] {
    const { cx } = this;
    const at = (kind: StorageKind, fallback: string) =>
      path.resolve(cx.dataDir, cx.section.dirs[kind] ?? fallback);
    return [
      { kind: 'logs', dir: at('logs', 'logs') },
      { kind: 'drives', dir: at('drives', 'drives') },
      { kind: 'downloads', dir: at('downloads', cx.config.current.updates?.download.dir ?? 'downloads') },
      {
        kind: 'bundles',
        dir: at('bundles', 'rollout'),
        match: /^bundle-\d+$/,
        keepNewest: 1,
        whole: true,
        age: bundleVersion,
        inUse: () => cx.ports.bundles?.inUse() ?? [],
      },
      {
        kind: 'last_known_good',
        dir: at('last_known_good', '.'),
        match: /^last-known-good.*\.json$/,
        keepNewest: 1,
        // The copy a bad config falls back to is the current one, whatever its time says.
        age: (name, mtime) => (name === LAST_KNOWN_GOOD ? Number.POSITIVE_INFINITY : mtime),
      },
    ];
  }

  private async clean(): Promise<void> {
    const { cx } = this;
    const inUse = new Set(cx.ports.updates?.downloadsInUse() ?? []);
    await this.steps.observe();
    const written = (mtime: number) => this.steps.written(mtime);
    const files = (await Promise.all(this.places().map((p) => scan(p, written)))).flat().filter(
      // A download an update still wants (or is writing) stays, whatever its age.
      (f) => f.kind !== 'downloads' || !inUse.has(path.basename(f.path).replace(/\.part$/, '')),
    );
    const now = cx.clock.now();
    const old = expired(files, cx.section.keep, now);
    await this.remove(old, 'retention');
    const gone = new Set(old.map((f) => f.path));
    let { free, total } = await space(cx.dataDir);
    const floor = floorBytes(cx.section.min_free, total);
    if (free < floor) {
      if (!this.low) cx.bus.emit('system/storage/low', { free, floor, dir: cx.dataDir }, 'storage');
      this.low = true;
      const rest = files.filter((f) => !gone.has(f.path));
      await this.remove(toFree(rest, floor - free, STORAGE_KINDS), 'below the free-space floor');
      ({ free } = await space(cx.dataDir));
      if (free < floor) {
        const shed = cx.cloud.shed(floor - free);
        if (shed.dropped) {
          this.disk.cleaned.records += shed.dropped;
          cx.bus.emit(
            'system/storage/cleaned',
            {
              reason: 'below the free-space floor',
              kinds: { outbox: shed.dropped },
              files: 0,
              bytes: shed.freed,
              records: shed.dropped,
            },
            'storage',
          );
        }
        ({ free } = await space(cx.dataDir));
      }
    } else this.low = false;
    this.disk = { ...this.disk, free, total, floor, low: free < floor, last: now };
  }

  private async remove(files: Kept[], reason: string): Promise<void> {
    if (!files.length) return;
    const kinds: Partial<Record<StorageKind, number>> = {};
    let bytes = 0;
    let n = 0;
    for (const f of files) {
      try {
        await rm(f.path, { recursive: true });
      } catch (e) {
        this.cx.log.warn(`storage housekeeping: ${f.path}: ${errorText(e)}`);
        continue;
      }
      kinds[f.kind] = (kinds[f.kind] ?? 0) + 1;
      bytes += f.size;
      n++;
    }
    this.disk.cleaned.files += n;
    this.disk.cleaned.bytes += bytes;
    this.cx.log.info({ reason, kinds, bytes }, `storage: ${n} files deleted`);
    this.cx.bus.emit('system/storage/cleaned', { reason, kinds, files: n, bytes, records: 0 }, 'storage');
  }
}

async function space(dir: string): Promise<{ free: number; total: number }> {
  const s = await statfs(dir);
  return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
}

/** Bytes of the regular files under a directory (symbolic links not followed). */
async function sizeOf(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []))
    if (e.isFile()) n += (await lstat(path.join(e.parentPath, e.name)).catch(() => ({ size: 0 }))).size;
  return n;
}

/**
 * The regular files of a place (symbolic links neither followed nor taken), without the newest it
 * keeps and those in use.
 */
async function scan(place: Place, written: (mtime: number) => number): Promise<Kept[]> {
  const out: Kept[] = [];
  if (place.whole) {
    for (const e of await readdir(place.dir, { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory() || !place.match?.test(e.name)) continue;
      const p = path.join(place.dir, e.name);
      const st = await lstat(p);
      out.push({ path: p, kind: place.kind, size: await sizeOf(p), mtime: written(st.mtimeMs) });
    }
  } else {
    const walk = async (dir: string, depth: number): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && depth < MAX_DEPTH && !place.match) await walk(p, depth + 1);
        if (!e.isFile() || (place.match && !place.match.test(e.name))) continue;
        const st = await lstat(p).catch(() => undefined);
        if (st?.isFile()) out.push({ path: p, kind: place.kind, size: st.size, mtime: written(st.mtimeMs) });
      }
    };
    await walk(place.dir, 0);
  }
  const age = place.age ?? ((_: string, mtime: number) => mtime);
  const newest = out
    .map((f) => ({ f, age: age(path.basename(f.path), f.mtime) }))
    .sort((a, b) => b.age - a.age)
    .map(({ f }) => f);
  const inUse = new Set(place.inUse?.() ?? []);
  return newest.slice(place.keepNewest ?? 0).filter((f) => !inUse.has(f.path));
}
