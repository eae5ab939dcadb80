import { define, errors as kernel } from '../core/errors.js';

export * from '../core/errors.js';

/** The error catalogue for power control: the kernel's codes and its own. */
export const errors = {
  ...kernel,
  POWER_UNAVAILABLE: define(
    'PITCREW_POWER_UNAVAILABLE',
    (why: string) =>
      `power control is unavailable (${why}): the power section's timers run and say what they would do, but the unit will not sleep, hibernate or power off; check that systemd-logind runs and the agent may use the system bus`,
  ),
} as const;
