import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import { errorText } from '../errors.js';

/** How often a running installer left by an earlier agent is looked at. */
const POLL_MS = 200;
/** After an installer's SIGTERM, how long before SIGKILL. */
export const KILL_GRACE_MS = 5000;

/**
 * A running process's start time (clock ticks since boot): with its pid, it names one process, even
 * once the pid is reused. None for a process that has ended (or ended and awaits its reaping).
 */
function startTime(pid: number): string | undefined {
  try {
    // Fields 3 (state) and 22, counted after the command name, which may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The installer processes this agent started, one file per process (`<pid>`, holding its start
 * time) under `dir`. An agent killed outside systemd (whose stop ends the whole cgroup) leaves its
 * installers running; the next agent finds their files and installs nothing until they have ended,
 * so two installers never write the same thing at once. One that outlives `limitMs` (the longest
 * installer timeout) is stopped: SIGTERM, then SIGKILL.
 */
export class InstallerProcesses {
  /** Settles once no installer of an earlier agent runs. */
  readonly earlierEnded: Promise<void>;

  constructor(
    private readonly dir: string,
    log: Logger,
    limitMs: number,
  ) {
    mkdirSync(dir, { recursive: true });
    const left = readdirSync(dir).flatMap((name) => {
      const pid = Number(name);
      let recorded: string | undefined;
      try {
        recorded = readFileSync(path.join(dir, name), 'utf8');
      } catch (e) {
        // Not a record this agent wrote (a directory, unreadable): said, and left where it is.
        log.warn(`${path.join(dir, name)}: not an installer record: ${errorText(e)}`);
        return [];
      }
      const alive = Number.isInteger(pid) && pid > 0 && startTime(pid) === recorded;
      if (!alive) this.untrack(name);
      return alive ? [{ pid, start: recorded }] : [];
    });
    for (const { pid } of left)
      log.warn(
        { pid },
        `an installer an earlier agent started (pid ${pid}) still runs: installs wait until it ends`,
      );
    this.earlierEnded = Promise.all(left.map((p) => this.outlast(p.pid, p.start, limitMs, log))).then(
      () => {},
    );
  }

  /** Records a started installer. */
  track(pid: number): void {
    const start = startTime(pid);
    if (start !== undefined) writeFileSync(path.join(this.dir, String(pid)), start);
  }

  untrack(pid: number | string): void {
    rmSync(path.join(this.dir, String(pid)), { force: true });
  }

  /** Waits for an earlier agent's installer (`pid` started at `start`) to end; past `limitMs`, ends it. */
  private async outlast(pid: number, start: string, limitMs: number, log: Logger): Promise<void> {
    const running = () => startTime(pid) === start;
    const until = async (ms: number) => {
      for (let waited = 0; running() && waited < ms; waited += POLL_MS) await sleep(POLL_MS);
    };
    await until(limitMs);
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      if (!running()) break;
      log.warn({ pid }, `the installer an earlier agent started (pid ${pid}) still runs: ${signal}`);
      try {
        process.kill(pid, signal);
      } catch (e) {
        log.warn({ pid }, `cannot stop installer ${pid}: ${errorText(e)}`);
      }
      await until(KILL_GRACE_MS);
    }
    this.untrack(pid);
  }
}
