/**
 * The installed command's V8 startup snapshot: the bundle evaluated once, its heap saved in a blob
 * for one node binary (`node --build-snapshot`, snapshot-entry.cjs), so that a start deserializes
 * it instead of running the bundle's modules. Built by `npm run build` and by `pitcrew snapshot`;
 * an agent started without one for its node builds it in the background for the next start.
 *
 * The stamp beside the blob says for which bundle, which node and which machine: the bundle's
 * directory (its paths are in the blob) and its build (dist/bin/build-id, a hash of what the blob
 * is made of: an upgrade in place changes it), the node binary's device, inode, size and modification
 * time (as `stat -L -c %d:%i:%s:%Y` prints them; binaries installed from npm all have one time),
 * and the machine's id: a start keeps the string hash seed drawn when its blob was built
 * (bin/pitcrew.js), which must be this machine's alone, never one copied with a disk image.
 * bin/pitcrew.js checks it in the shell before it hands the blob to node, which exits when a blob
 * is not its own. The blob is beside the bundle, or in $PITCREW_SNAPSHOT_DIR: a directory the
 * agent may write where the install is read-only to it (a systemd service's cache directory).
 */
import { spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { setPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { flush, writeDurably } from '../core/durable-file.js';
import type { Logger } from '../core/logger.js';
import { errors, errorText } from '../errors.js';

export interface SnapshotFiles {
  /** The bundle's directory. */
  bundle: string;
  /** Where the blob and its stamp are. */
  dir: string;
  blob: string;
  stamp: string;
  /** The entry node builds the blob from, beside the bundle. */
  entry: string;
}

/** The installed command's (its bundle found from the bundle itself, or from the sources in a checkout). */
export function snapshotFiles(
  bin = fileURLToPath(new URL('../../dist/bin', import.meta.url)),
  dir = process.env.PITCREW_SNAPSHOT_DIR || path.join(bin, 'snapshot'),
): SnapshotFiles {
  return {
    bundle: bin,
    dir,
    blob: path.join(dir, 'pitcrew.blob'),
    stamp: path.join(dir, 'stamp'),
    entry: path.join(bin, 'snapshot-entry.cjs'),
  };
}

/** A one-line file's line, or `otherwise` where there is none: as the shell's `read -r x < file || x=…`. */
function lineOf(file: string, otherwise: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return otherwise;
  }
}

/**
 * The stamp of a blob of `files.bundle` for `node`: one line, as bin/pitcrew.js makes it to compare.
 * The build is the bundle's (scripts/bundle.ts writes it); the machine's id is systemd's, made anew
 * for each installed system, and there is none in some containers.
 */
function stampOf(files: SnapshotFiles, node: string): string {
  const s = statSync(node, { bigint: true });
  const build = lineOf(path.join(files.bundle, 'build-id'), 'none');
  const machine = lineOf('/etc/machine-id', '');
  return `${files.bundle} ${build} ${s.dev}:${s.ino}:${s.size}:${s.mtimeNs / 1_000_000_000n}${machine && ` ${machine}`}\n`;
}

/** Whether the blob is this build's, this node's and this machine's, as bin/pitcrew.js checks it. */
export function snapshotCurrent(files: SnapshotFiles, node = process.execPath): boolean {
  try {
    return readFileSync(files.stamp, 'utf8') === stampOf(files, node);
  } catch {
    return false;
  }
}

/** Whether this process may write the snapshot (an install owned by another user may not). */
export function snapshotWritable(files: SnapshotFiles): boolean {
  try {
    accessSync(existsSync(files.dir) ? files.dir : path.dirname(files.dir), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A build left behind by a process that died is taken over after this. */
const STALE_BUILD_MS = 10 * 60_000;

/**
 * Builds the blob for the running node, one build at a time (`background`: at the lowest CPU
 * priority). The stamp goes first and comes back last, so a start never pairs a stamp with a blob
 * half written.
 */
export async function buildSnapshot(
  files: SnapshotFiles,
  opts: { background?: boolean } = {},
): Promise<string> {
  const node = process.execPath;
  const lock = path.join(files.dir, '.building');
  mkdirSync(files.dir, { recursive: true });
  try {
    mkdirSync(lock);
  } catch {
    if (Date.now() - statSync(lock).mtimeMs < STALE_BUILD_MS)
      throw errors.SNAPSHOT_FAILED('another build is under way');
  }
  try {
    rmSync(files.stamp, { force: true });
    await flush(files.dir);
    // Names of its own, reused: the lock keeps them to this build, and one cut short leaves nothing new.
    const blob = `${files.blob}.building`;
    // What the bundle decides as it loads is frozen into the blob. zod decides for each object
    // schema, as it builds it, whether its parser will be generated code: built where code
    // generation is disallowed, every schema parses without, right in a process that disallows
    // it too (--disallow-code-generation-from-strings). Conditions decide when they are compiled.
    const build = spawn(
      node,
      ['--disallow-code-generation-from-strings', '--snapshot-blob', blob, '--build-snapshot', files.entry],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // Beside a running agent, it yields the CPU to it.
    if (opts.background && build.pid) setPriority(build.pid, 19);
    let stderr = '';
    let said = '';
    build.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    build.stdout.setEncoding('utf8').on('data', (s: string) => {
      said += s;
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      build.once('error', reject);
      build.once('close', resolve);
    });
    if (code !== 0) {
      rmSync(blob, { force: true });
      // Node warns about the built-in modules it has not verified in snapshots: what failed is below them.
      const why = stderr
        .split('\n')
        .filter((l) => l && !/Warning|may still work|issue tracker|--trace-/.test(l));
      throw errors.SNAPSHOT_FAILED(why.slice(-6).join('\n') || `node exited with ${code}`);
    }
    // On the disk before it is named, and named before the stamp says it is there: after a power
    // cut node is never handed a blob cut short (it aborts on one, and the unit could not start).
    await flush(blob);
    renameSync(blob, files.blob);
    await flush(files.dir);
    writeDurably(files.stamp, stampOf(files, node), 0o644);
    return said.trim();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * An agent the installed command started without its snapshot (none yet, or one for another node):
 * the snapshot is built now, in the background, for the next start. PITCREW_SNAPSHOT=off: never.
 */
export function renewSnapshot(log: Logger, files = snapshotFiles()): void {
  if (process.env.PITCREW_SNAPSHOT === 'off' || snapshotCurrent(files)) return;
  if (!snapshotWritable(files)) {
    log.info(
      `no startup snapshot for Node.js ${process.version}: 'pitcrew snapshot', run by the install's owner, builds one`,
    );
    return;
  }
  log.info(`building a startup snapshot for Node.js ${process.version}, for the next start`);
  buildSnapshot(files, { background: true }).then(
    (did) => log.info(`startup snapshot built (${files.blob}; ${did}): the next start uses it`),
    (e: unknown) => log.warn(errorText(e)),
  );
}

/**
 * Node cannot start worker threads in a process started from a user-land snapshot: a thread that
 * loads net, child_process or v8 aborts the whole process (Node 22 and 24). So such a process
 * refuses them: constructing a Worker throws PITCREW_SNAPSHOT_THREADS, which its caller (a module
 * service) fails with, and `onNeed` is told once, to start the agent again without the snapshot.
 */
export function refuseThreads(onNeed: () => void): void {
  const threads = process.getBuiltinModule('node:worker_threads');
  let told = false;
  threads.Worker = function Worker() {
    if (!told) {
      told = true;
      onNeed();
    }
    throw errors.SNAPSHOT_THREADS();
  } as unknown as typeof threads.Worker;
  // User modules import it as an ES module: their bindings follow.
  process.getBuiltinModule('node:module').syncBuiltinESMExports();
}

/** Module services that run in a worker thread of their own (`isolation: thread`). */
export function threadedServices(services: Record<string, { driver: string; settings?: unknown }>): string[] {
  return Object.entries(services)
    .filter(
      ([, s]) => s.driver === 'module' && (s.settings as { isolation?: string })?.isolation === 'thread',
    )
    .map(([name]) => name);
}

/**
 * This process replaced by the same command started without the snapshot: the same PID (systemd's
 * service and its watchdog stay), the same arguments, PITCREW_SNAPSHOT=off. The blob's seed goes
 * with it: without a blob of its own, `--no-rehash-snapshot` would keep node's built-in one.
 */
export function restartWithoutSnapshot(): never {
  const flags = process.execArgv.filter(
    (a, i, all) =>
      a !== '--snapshot-blob' &&
      all[i - 1] !== '--snapshot-blob' &&
      !a.startsWith('--snapshot-blob=') &&
      a !== '--no-rehash-snapshot',
  );
  return process.execve!(process.execPath, [process.execPath, ...flags, ...process.argv.slice(1)], {
    ...process.env,
    PITCREW_SNAPSHOT: 'off',
  });
}

export function registerSnapshot(program: Command): void {
  program
    .command('snapshot')
    .description(
      "build the installed command's startup snapshot for the node running it (npm run build does; an agent started without one builds it)",
    )
    .action(async () => {
      const files = snapshotFiles();
      const did = await buildSnapshot(files);
      console.log(`${files.blob}: built for Node.js ${process.version} (${process.execPath}); ${did}`);
    });
}
