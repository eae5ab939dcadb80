import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { RestartT } from '../../../schemas/services.js';
import { backoffDelay } from '../../core/backoff.js';
import type { Clock, Timer } from '../../core/clock.js';
import { LineSplitter, TOO_LONG } from '../../core/lines.js';
import type { Logger } from '../../core/logger.js';
import { signalGroup } from '../../core/process-group.js';
import { errorCode, errors, errorText } from '../errors.js';
import type { ErrorInfoT } from '../model.js';
import type { EntryPoint } from './entry.js';

/** An instance's state as the unit status has it (Aos `InstanceStatus`). */
export type InstanceState = 'activating' | 'active' | 'inactive' | 'failed';

/** Which instance: a service version, for a subject, numbered from 0. */
export interface InstanceIdent {
  serviceId: string;
  subjectId: string;
  instance: number;
  version: string;
}

export interface InstanceDeps {
  clock: Clock;
  log: Logger;
  restart: RestartT;
  stopTimeout: number;
  /** Resolves the entry point (each start: an image unpacked once, a manifest re-read). */
  entry: () => Promise<EntryPoint>;
  onState: (p: InstanceProcess) => void;
  random?: () => number;
}

/** How long an instance must stay up to count as `active` (DESIGN §14). */
export const ACTIVE_AFTER_MS = 2000;
/** Longest line of an instance's output put into the log. */
const MAX_LOG_LINE = 4096;

export const instanceKey = (i: Omit<InstanceIdent, 'version'>) =>
  `${i.serviceId}/${i.subjectId}/${i.instance}`;

/**
 * One instance of a service: a child process in its own process group, its output in the agent's
 * log line by line under its ident, restarted with the backoff when it exits, `active` once it
 * stayed up ACTIVE_AFTER_MS. `stop()` sends SIGTERM to the group and SIGKILL after the timeout.
 */
export class InstanceProcess {
  state: InstanceState = 'inactive';
  error: ErrorInfoT | null = null;
  /** It was `active` at least once (a version that never was is a candidate for revert). */
  wasActive = false;
  /** Exits before it was ever active. */
  earlyExits = 0;
  readonly key: string;
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private timer?: Timer;
  private restarts = 0;
  private stopping = false;

  constructor(
    readonly ident: InstanceIdent,
    private readonly deps: InstanceDeps,
  ) {
    this.key = instanceKey(ident);
  }

  start(): void {
    this.stopping = false;
    void this.launch();
  }

  /** Stops it and waits until its process is gone; `inactive` after. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.timer?.cancel();
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      signalGroup(child, 'SIGTERM');
      const kill = this.deps.clock.setTimeout(() => signalGroup(child, 'SIGKILL'), this.deps.stopTimeout);
      await this.exited;
      kill.cancel();
    }
    this.set('inactive', null);
  }

  private async launch(): Promise<void> {
    this.set('activating', this.error);
    let entry: EntryPoint;
    try {
      entry = await this.deps.entry();
    } catch (e) {
      return this.failed({ message: errorText(e), code: errorCode(e) });
    }
    if (this.stopping) return;
    const { serviceId, subjectId, instance } = this.ident;
    const [program, ...args] = entry.argv;
    // Only what an instance needs of the agent's environment: never its secrets.
    const env = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
      ...entry.env,
      PITCREW_SERVICE: serviceId,
      PITCREW_SUBJECT: subjectId,
      PITCREW_INSTANCE: String(instance),
    };
    const child = spawn(program!, args, {
      cwd: entry.cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    for (const [stream, level] of [
      [child.stdout, 'info'],
      [child.stderr, 'warn'],
    ] as const) {
      const lines = new LineSplitter(MAX_LOG_LINE);
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) =>
        lines.push(chunk, (l) =>
          this.deps.log[level](
            { instance: this.key },
            l === TOO_LONG ? `(a line over ${MAX_LOG_LINE} characters)` : l,
          ),
        ),
      );
    }
    let unstarted: Error | undefined;
    child.once('error', (e) => {
      unstarted = e;
    });
    this.timer = this.deps.clock.setTimeout(() => {
      if (this.child !== child || this.stopping) return;
      this.wasActive = true;
      this.restarts = 0;
      this.set('active', null);
    }, ACTIVE_AFTER_MS);
    child.once('close', (code, signal) => {
      if (this.child !== child || this.stopping) return;
      this.timer?.cancel();
      // As a shell reports them: 127 not started, 128 + n killed by signal n.
      const exitCode = unstarted ? 127 : (code ?? 128 + (signal ? constants.signals[signal] : 0));
      const how = unstarted
        ? `could not be started (${program}: ${errorText(unstarted)})`
        : code !== null
          ? `exited with code ${code}`
          : `was killed by ${signal}`;
      this.failed({ ...toInfo(errors.INSTANCE_EXIT(this.key, how)), exitCode });
    });
  }

  private failed(error: ErrorInfoT): void {
    if (this.stopping) return;
    if (!this.wasActive) this.earlyExits++;
    this.deps.log.warn({ instance: this.key }, error.message);
    this.set('failed', error);
    const delay = backoffDelay(this.deps.restart, this.restarts++, this.deps.random);
    this.timer = this.deps.clock.setTimeout(() => void this.launch(), delay);
  }

  private set(state: InstanceState, error: ErrorInfoT | null): void {
    if (this.state === state && this.error === error) return;
    this.state = state;
    this.error = error;
    this.deps.onState(this);
  }
}

const toInfo = (e: Error & { code?: string }): ErrorInfoT => ({ message: e.message, code: e.code });
