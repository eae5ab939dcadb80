import { define, errors as kernel } from '../core/errors.js';

export * from '../core/errors.js';

/** The error catalogue for the control socket: the kernel's codes and their own. */
export const errors = {
  ...kernel,
  CONTROL_REQUEST: define('PITCREW_CONTROL_REQUEST', (why: string) => `bad request: ${why}`),
  CONTROL_ANSWER: define(
    'PITCREW_CONTROL_ANSWER',
    (why: string) => `the answer cannot be sent as JSON: ${why}`,
  ),
  CONTROL_UNREACHABLE: define(
    'PITCREW_CONTROL_UNREACHABLE',
    (socket: string, why: string) => `cannot reach the agent at ${socket}: ${why}`,
  ),
  CONTROL_TIMEOUT: define(
    'PITCREW_CONTROL_TIMEOUT',
    (socket: string, ms: number) => `no answer from ${socket} within ${ms} ms`,
  ),
} as const;
