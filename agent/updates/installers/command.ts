import { spawn } from 'node:child_process';
import type { Clock } from '../../core/clock.js';
import { compileTemplate } from '../../core/templates.js';
import { errors } from '../../errors.js';
import type { ItemT } from '../model.js';
import type { Installer } from './installer.js';

/** How much of the command's stderr the error keeps. */
const TAIL_BYTES = 2048;
/** After the timeout's SIGTERM, how long before SIGKILL. */
const KILL_GRACE_MS = 5000;

/**
 * Runs an argv (no shell) with `{{ file }}`, `{{ id }}`, `{{ version }}`, `{{ type }}` and
 * `{{ action }}` (install or remove) filled in. Exit code 0 is success; otherwise the exit code and
 * the tail of stderr go into the item's errorInfo. Past `timeout` it is killed.
 */
export class CommandInstaller implements Installer {
  private readonly argv: (vars: Record<string, string>) => string[];

  constructor(
    argv: readonly string[],
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {
    // Compiled once: a malformed template fails the start, not the first install.
    this.argv = compileTemplate(argv) as (vars: Record<string, string>) => string[];
  }

  install(item: ItemT, file: string): Promise<void> {
    return this.run(item, 'install', file);
  }

  remove(item: ItemT): Promise<void> {
    return this.run(item, 'remove', '');
  }

  private async run(item: ItemT, action: string, file: string): Promise<void> {
    const [cmd, ...args] = this.argv({
      file,
      id: item.id,
      version: item.version,
      type: item.type ?? '',
      action,
    });
    return new Promise((resolve, reject) => {
      const child = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let tail = '';
      let timedOut = false;
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        tail = (tail + s).slice(-TAIL_BYTES);
      });
      const timer = this.clock.setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref();
      }, this.timeoutMs);
      child.on('error', (e) => {
        timer.cancel();
        reject(errors.UPDATE_INSTALL(item.id, `${cmd} cannot run: ${e.message}`));
      });
      child.on('close', (code, sig) => {
        timer.cancel();
        if (code === 0 && !timedOut) return resolve();
        const why = timedOut
          ? `killed after the ${this.timeoutMs} ms timeout`
          : code === null
            ? `killed by ${sig}`
            : `exit code ${code}`;
        const text = tail.trim();
        reject(
          Object.assign(errors.UPDATE_INSTALL(item.id, `${cmd} ${why}${text ? `: ${text}` : ''}`), {
            exitCode: code ?? undefined,
          }),
        );
      });
    });
  }
}
