import { spawn } from 'node:child_process';
import { freeUnder } from '../core/disk-room.js';
import { tailOf } from '../core/output-tail.js';
import { signalGroup } from '../core/process-group.js';
import { errors, errorText } from './errors.js';

/** The last line git said: its reason, after any progress or hints. */
const lastLine = (said: string) => said.trim().split('\n').at(-1);

/** Most of git's answer taken (as `execFile`'s buffer was), and of what it says, the last part kept. */
const MAX_STDOUT = 1024 * 1024;
const SAID_CHARS = 4096;

/** Never a prompt for credentials: a unit has nobody to answer it. */
const env = () => ({ ...process.env, GIT_TERMINAL_PROMPT: '0' });

export interface GitOptions {
  cwd: string;
  /** `-c name=value` settings for this command only. */
  config?: string[];
  /**
   * No file the command (or a git it starts) writes may grow past this many bytes: the kernel
   * stops it (RLIMIT_FSIZE, set by the shell's `ulimit -f` in 512-byte blocks), before a disk fills.
   */
  maxFileBytes?: number;
  /** Most ms it may take (default 2 minutes). */
  timeout?: number;
  /** Ends it early (the agent stopping). */
  signal?: AbortSignal;
}

/**
 * Runs `git args`; its stdout, trimmed. A failure says which command and git's last line. git runs
 * in a process group of its own, which a stop, `timeout` or `signal` ends whole: the helper git
 * starts for HTTP (git-remote-http) went on downloading when only git was ended.
 */
export function git(
  args: string[],
  { cwd, config = [], maxFileBytes, timeout = 120_000, signal }: GitOptions,
): Promise<string> {
  const argv = [...config.flatMap((c) => ['-c', c]), ...args];
  const [file, fileArgs] =
    maxFileBytes === undefined
      ? ['git', argv]
      : ['sh', ['-c', 'ulimit -f "$0" && exec git "$@"', String(Math.ceil(maxFileBytes / 512)), ...argv]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, fileArgs, {
      cwd,
      env: env(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let ended: string | undefined;
    const end = (why: string) => {
      ended ??= why;
      signalGroup(child, 'SIGTERM');
    };
    // What git answers is whole, up to a bound (a server's refs are many at most); what it says, a tail.
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (stdout.length > MAX_STDOUT) end(`wrote more than ${MAX_STDOUT} characters`);
    });
    const stderr = tailOf(child.stderr, SAID_CHARS);
    const timer = setTimeout(() => end(`timed out after ${timeout} ms`), timeout);
    const stop = () => end('stopped');
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
    const done = (e?: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      if (e === undefined) resolve(stdout.trim());
      else reject(errors.DRIVER_ERROR(`git ${args[0]}: ${lastLine(ended ?? (stderr() || errorText(e)))}`));
    };
    child.on('error', done);
    child.on('close', (code, sig) => done(code === 0 && !ended ? undefined : `exit ${code ?? sig}`));
  });
}

/** How often `withinDisk` looks at the free space. */
const DISK_LOOK_MS = 200;

/**
 * Runs `work` (given a signal that ends it) while watching the free space of the file system under
 * `dir`: once it has taken more than `bytes` of it (looked at every 200 ms, and when it ends), it
 * is stopped and the result is `over: true`. For what no single file's bound holds (git over plain
 * HTTP fetches a history object by object); a writer beside it counts too, which errs towards stopping.
 */
export async function withinDisk(
  dir: string,
  bytes: number,
  work: (signal: AbortSignal) => Promise<unknown>,
  signal?: AbortSignal,
): Promise<{ over: boolean }> {
  const before = await freeUnder(dir);
  const taken = async () => before - (await freeUnder(dir)) > bytes;
  const own = new AbortController();
  let over = false;
  const look = setInterval(() => {
    taken().then(
      (t) => {
        if (t && !over) {
          over = true;
          own.abort();
        }
      },
      () => {}, // the directory gone (a stop): the work ends on its own
    );
  }, DISK_LOOK_MS);
  try {
    await work(signal ? AbortSignal.any([signal, own.signal]) : own.signal);
  } catch (e) {
    if (!over) throw e;
  } finally {
    clearInterval(look);
  }
  return { over: over || (await taken()) };
}

/** What a commit's checkout writes: its files (blobs and symbolic links) and their bytes. */
export interface TreeSize {
  files: number;
  bytes: number;
  /** The limit passed, where counting stopped. */
  over?: 'files' | 'bytes';
}

/**
 * Counts what checking out `commit` would write, from its tree (`git ls-tree -r -l`), read as it
 * streams: counting stops, and git with it, once `maxFiles` or `maxBytes` is passed, so a tree of
 * a million entries costs no more memory than one of ten.
 */
export function treeSize(
  cwd: string,
  commit: string,
  { maxFiles, maxBytes, signal }: { maxFiles: number; maxBytes: number; signal?: AbortSignal },
): Promise<TreeSize> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['ls-tree', '-r', '-l', '-z', '--full-tree', commit], {
      cwd,
      signal,
      env: env(),
    });
    const size: TreeSize = { files: 0, bytes: 0 };
    let rest = '';
    child.stdout.setEncoding('latin1').on('data', (chunk: string) => {
      if (size.over) return;
      const records = (rest + chunk).split('\0');
      rest = records.pop()!;
      for (const r of records) {
        // `<mode> <type> <object> <size>\t<path>`; a submodule (type commit) writes nothing.
        const [, type, , bytes] = r.slice(0, r.indexOf('\t')).split(/ +/);
        if (type !== 'blob') continue;
        size.files++;
        size.bytes += Number(bytes);
        size.over = size.files > maxFiles ? 'files' : size.bytes > maxBytes ? 'bytes' : undefined;
        if (size.over) {
          child.kill();
          return;
        }
      }
    });
    const stderr = tailOf(child.stderr, SAID_CHARS);
    child.on('error', reject);
    child.on('close', (code) => {
      if (size.over || code === 0) resolve(size);
      else reject(errors.DRIVER_ERROR(`git ls-tree: ${lastLine(stderr())}`));
    });
  });
}
