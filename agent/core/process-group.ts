import type { ChildProcess } from 'node:child_process';

/**
 * Signals a child started `detached` (the leader of its own process group) and what it started:
 * the whole group, not just the process; a group already gone is fine.
 */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // ESRCH: it exited between the check and the signal.
  }
}
