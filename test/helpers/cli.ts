import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const CLI = path.join(ROOT, 'agent/cli.ts');

/** Runs the real `pitcrew` CLI as a child process and waits for it; `clearEnv`: only `env` is set. */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; clearEnv?: boolean } = {},
) {
  const r = spawnSync(process.execPath, [TSX, CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: opts.clearEnv ? opts.env : { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** How to run `pitcrew`: from the sources through tsx, or the built command users install. */
export type Runner = 'tsx' | 'bin';
/** The built command runs as installed, as a program (its node flags and startup snapshot apply). */
const command = (runner: Runner, bin = path.join(ROOT, 'bin/pitcrew.js')): [string, string[]] =>
  runner === 'bin' ? [bin, []] : [process.execPath, [TSX, CLI]];

/** A long-running CLI child process whose stdout lines are collected as they come. */
export function startCli(
  args: string[],
  opts: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    runner?: Runner /** Another installed command. */;
    bin?: string;
    /** In a process group of its own, as systemd keeps a service in its own cgroup: see `killGroup`. */
    group?: boolean;
  } = {},
) {
  const [file, pre] = command(opts.runner ?? 'tsx', opts.bin);
  const child = spawn(file, [...pre, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.group ?? false,
  });
  /** Kills the command and all it started, as systemd kills a failed service's cgroup. */
  const killGroup = () => {
    if (!opts.group) return void child.kill('SIGKILL');
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  };
  const lines: string[] = [];
  const errLines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters) w();
  });
  let errPartial = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    errPartial += chunk;
    const parts = errPartial.split('\n');
    errPartial = parts.pop()!;
    errLines.push(...parts);
    for (const w of waiters) w();
  });
  // 'close', not 'exit': by then all of stdout has been read.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

  /** Resolves with the first line (of stdout, or of stderr) that satisfies `pred`, or fails after `ms` with what was seen. */
  function waitFor(
    pred: (line: string, index: number, lines: string[]) => boolean,
    ms = 20_000,
    from: 'stdout' | 'stderr' = 'stdout',
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = (from === 'stdout' ? lines : errLines).find(pred);
        if (hit === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(`no matching line within ${ms} ms; stderr:\n${stderr}\nstdout:\n${lines.join('\n')}`),
        );
      }, ms);
      waiters.add(check);
      check();
    });
  }
  return { child, lines, waitFor, exited, killGroup, stderr: () => stderr };
}

/** A short command through the installed command, without blocking this process (an emulator may live here). */
export async function runBin(args: string[], opts: { cwd?: string } = {}) {
  const c = startCli(args, { runner: 'bin', ...opts });
  const code = await c.exited;
  return { code, stdout: c.lines.join('\n'), stderr: c.stderr() };
}
