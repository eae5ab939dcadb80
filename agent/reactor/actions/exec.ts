import { spawn } from 'node:child_process';
import * as z from 'zod';
import { Duration } from '../../../schemas/common.js';
import type { Timer } from '../../core/clock.js';
import { compileTemplate, hasTemplate } from '../../core/templates.js';
import { errors, errorText } from '../errors.js';
import { defineAction } from './types.js';

/** After SIGTERM, a child has this long to exit before SIGKILL. */
export const KILL_GRACE_MS = 2000;
/** Output kept per stream; a chatty child cannot grow the agent's memory. */
const MAX_OUTPUT = 1024 * 1024;

export const exec = defineAction({
  name: 'exec',
  schema: z.strictObject({ command: z.array(z.string()).min(1), timeout: Duration.default(30_000) }),
  check: (body, cx) => {
    cx.templates(body, []);
    const program = (body as { command?: unknown } | null)?.command;
    // Event data may fill in arguments, never choose the program.
    if (Array.isArray(program) && typeof program[0] === 'string' && hasTemplate(program[0]))
      cx.add(['command', 0], 'the program (command[0]) must be written out, not a template');
  },
  compile: (b, { host }) => {
    const argv = compileTemplate(b.command.slice(1));
    const program = b.command[0]!;
    return {
      name: 'exec',
      live: false,
      writesResult: true,
      run: (r) =>
        new Promise((resolve, reject) => {
          const args = (argv(r.data) as unknown[]).map(String);
          // An argv, never a shell line: nothing in it is interpreted.
          const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
          const out = { stdout: '', stderr: '' };
          for (const k of ['stdout', 'stderr'] as const) {
            child[k].setEncoding('utf8');
            child[k].on('data', (s: string) => {
              if (out[k].length < MAX_OUTPUT) out[k] += s.slice(0, MAX_OUTPUT - out[k].length);
            });
          }
          let killTimer: Timer | undefined;
          let why: Error | undefined;
          const terminate = (reason: Error) => {
            why ??= reason;
            child.kill('SIGTERM');
            killTimer ??= host.clock.setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
          };
          const timeout = host.clock.setTimeout(
            () => terminate(errors.EXEC_TIMEOUT(program, b.timeout)),
            b.timeout,
          );
          r.onCancel = () => terminate(errors.RUN_CANCELLED(r.source));
          child.on('error', (e) => {
            timeout.cancel();
            reject(errors.EXEC_FAILED(program, errorText(e)));
          });
          child.on('close', (code, signal) => {
            timeout.cancel();
            killTimer?.cancel();
            if (why) reject(why);
            else if (code !== 0)
              reject(errors.EXEC_FAILED(program, signal ? `killed by ${signal}` : `exited with ${code}`));
            else {
              r.data.result = { code: 0, ...out };
              resolve(r.data.result);
            }
          });
        }),
    };
  },
});
