import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const CLI = path.join(ROOT, 'bin/pitcrew.js');

/** Builds dist/ first: benchmarks measure what ships. */
export function ensureBuilt(): void {
  // Built by this node: its startup snapshot is this node's.
  const r = spawnSync('npm', ['run', '--silent', 'build'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` },
  });
  if (r.status !== 0) throw new Error('build failed');
}

/** The compiled agent on the default config (or `config`), in a scratch data directory. */
export function startAgent(
  env: Record<string, string> = {},
  args: string[] = [],
  config = path.join(ROOT, 'config/pitcrew.yaml'),
): ChildProcess {
  const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-bench-'));
  // The command itself, as installed: its node flags and settings apply.
  return spawn(CLI, ['run', '-c', config, '--events', ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`,
      PITCREW_DATA_DIR: dir,
      PITCREW_CONTROL_SOCKET: path.join(dir, 'ctl.sock'),
      PITCREW_MQTT_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/**
 * How the installed command runs node, from its shell lines (`export NAME=value`, `flags='--flag …'`):
 * its environment settings and its node flags, for a benchmark that runs other code as a unit would.
 */
export function commandNode(): { env: Record<string, string>; execArgv: string[] } {
  const lines = readFileSync(CLI, 'utf8').split('\n');
  const env = Object.fromEntries(
    lines.flatMap((l) => {
      const m = /^export ([A-Z_][A-Z0-9_]*)=(\S+)$/.exec(l);
      return m ? [[m[1]!, m[2]!]] : [];
    }),
  );
  const flags = lines.map((l) => /^flags='(.*)'$/.exec(l)).find((m) => m);
  if (!flags) throw new Error(`${CLI}: no flags='…' line`);
  return { env, execArgv: flags[1]!.split(' ') };
}

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

/** A process's figure from /proc/PID/status, in MB: VmRSS (resident), RssAnon, RssFile … */
export function statusMB(pid: number, key = 'VmRSS'): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

export const rssMB = (pid: number): number => statusMB(pid);

export const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
