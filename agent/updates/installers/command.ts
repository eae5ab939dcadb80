import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import type { Clock } from '../../core/clock.js';
import { tailOf } from '../../core/output-tail.js';
import { compileTemplate } from '../../core/templates.js';
import { errors } from '../errors.js';
import type { ItemT } from '../model.js';
import type { Installer } from './installer.js';
import { type InstallerProcesses, KILL_GRACE_MS } from './processes.js';

/** How much of the command's stderr the error keeps, and of its stdout an `expect.output` sees. */
const TAIL_BYTES = 2048;

/** An installer as configured: its argv and what must hold after it. */
export interface CommandSpec {
  command: readonly string[];
  expect?: { file?: string | undefined; output?: string | undefined } | undefined;
}

type Render<T> = (vars: Record<string, string>) => T;

/**
 * Runs an argv (no shell) with `{{ file }}`, `{{ id }}`, `{{ version }}`, `{{ type }}` and
 * `{{ action }}` (install or remove) filled in; the program itself is never a placeholder (the
 * schema refuses it) and the values from a message follow the name grammar, so none can start
 * like an option. Success is exit code 0 and, when configured, `expect`: a file that must exist
 * after an install, a pattern the output must match. Otherwise the exit code and the tail of
 * stderr go into the item's errorInfo. Past `timeout` it is killed.
 */
export class CommandInstaller implements Installer {
  private readonly argv: Render<string[]>;
  private readonly expectFile?: Render<string>;
  private readonly expectOutput?: RegExp;

  constructor(
    spec: CommandSpec,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
    /** Where the processes it starts are recorded; none runs while an earlier agent's does. */
    private readonly processes?: InstallerProcesses,
  ) {
    // Compiled once: a malformed template fails the start, not the first install.
    this.argv = compileTemplate(spec.command) as Render<string[]>;
    if (spec.expect?.file) this.expectFile = compileTemplate(spec.expect.file) as Render<string>;
    if (spec.expect?.output) this.expectOutput = new RegExp(spec.expect.output);
  }

  install(item: ItemT, file = ''): Promise<void> {
    return this.run(item, 'install', file);
  }

  remove(item: ItemT): Promise<void> {
    return this.run(item, 'remove', '');
  }

  private async run(item: ItemT, action: string, file: string): Promise<void> {
    const vars = { file, id: item.id, version: item.version, type: item.type ?? '', action };
    const output = await this.spawn(item, vars);
    if (action !== 'install') return;
    if (this.expectOutput && !this.expectOutput.test(output))
      throw errors.UPDATE_INSTALL(
        item.id,
        `exit code 0, but its output does not match expect.output /${this.expectOutput.source}/`,
      );
    const expected = this.expectFile?.(vars);
    if (
      expected !== undefined &&
      !(await access(expected).then(
        () => true,
        () => false,
      ))
    )
      throw errors.UPDATE_INSTALL(item.id, `exit code 0, but ${expected} (expect.file) does not exist`);
  }

  /** Runs the argv; resolves with the tail of its stdout when it exits 0. */
  private async spawn(item: ItemT, vars: Record<string, string>): Promise<string> {
    const [cmd, ...args] = this.argv(vars);
    await this.processes?.earlierEnded;
    return new Promise((resolve, reject) => {
      const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const pid = child.pid;
      if (pid !== undefined) this.processes?.track(pid);
      const tail = tailOf(child.stderr, TAIL_BYTES);
      const out = tailOf(child.stdout, TAIL_BYTES);
      let timedOut = false;
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
        if (pid !== undefined) this.processes?.untrack(pid);
        if (code === 0 && !timedOut) return resolve(out());
        const why = timedOut
          ? `killed after the ${this.timeoutMs} ms timeout`
          : code === null
            ? `killed by ${sig}`
            : `exit code ${code}`;
        const text = tail().trim();
        reject(
          Object.assign(errors.UPDATE_INSTALL(item.id, `${cmd} ${why}${text ? `: ${text}` : ''}`), {
            exitCode: code ?? undefined,
          }),
        );
      });
    });
  }
}
