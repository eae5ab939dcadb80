import { define, errors as kernel, list } from '../core/errors.js';

export * from '../core/errors.js';

/** The error catalogue for the reactor (conditions, rules, actions, replay): the kernel's codes and their own. */
export const errors = {
  ...kernel,
  LOGIC_INVALID: define('PITCREW_LOGIC_INVALID', (why: string) => why),
  RULE_UNKNOWN: define(
    'PITCREW_RULE_UNKNOWN',
    (rule: string, known: readonly string[]) => `no rule '${rule}' (rules: ${list(known)})`,
  ),
  RETURN_INVALID: define(
    'PITCREW_RETURN_INVALID',
    () => "return data needs a 'type' (lowercase name) and a 'value'",
  ),
  EXEC_FAILED: define('PITCREW_EXEC_FAILED', (cmd: string, why: string) => `${cmd}: ${why}`),
  EXEC_TIMEOUT: define(
    'PITCREW_EXEC_TIMEOUT',
    (cmd: string, ms: number) => `${cmd}: timed out after ${ms} ms (raise exec.timeout if it needs longer)`,
  ),
  DRY_RUN: define('PITCREW_DRY_RUN', () => 'not run in a dry run'),
  REPLAY_LINE: define('PITCREW_REPLAY_LINE', (why: string) => why),
  RUN_CANCELLED: define(
    'PITCREW_RUN_CANCELLED',
    (rule: string) => `run of ${rule} cancelled (mode: restart)`,
  ),
} as const;
