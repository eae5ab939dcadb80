/**
 * A real pseudo-terminal pair made by socat (scripts/test-deps installs it): the driver opens
 * `port`, an emulator opens `device`. Stopping socat makes both vanish, as a pulled USB adapter
 * does; starting it again brings them back on the same paths.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { tmpDir } from './tmp.js';
import { waitFor } from './wait.js';

export class PtyPair {
  private proc?: ChildProcess;
  readonly port: string;
  readonly device: string;

  private constructor(dir: string) {
    this.port = path.join(dir, 'ttyUSB0');
    this.device = path.join(dir, 'device');
  }

  static async start(): Promise<PtyPair> {
    const p = new PtyPair(tmpDir('pitcrew-pty-'));
    await p.plugIn();
    return p;
  }

  async plugIn(): Promise<void> {
    this.proc = spawn('socat', [`pty,raw,echo=0,link=${this.port}`, `pty,raw,echo=0,link=${this.device}`], {
      stdio: 'ignore',
    });
    await waitFor(() => existsSync(this.port) && existsSync(this.device), 'socat to make the pty pair');
  }

  /** Both ends vanish, as when the adapter is pulled out. */
  async unplug(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
    // A plugIn may have started a new pair meanwhile (an unplug not awaited): that one stays known.
    if (this.proc === p) this.proc = undefined;
  }
}
