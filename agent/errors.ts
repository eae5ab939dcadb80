/**
 * The whole error catalogue: the kernel's codes and each layer's own, merged for what sees every
 * layer (the composition root, the command line, the README's table). A layer imports its own
 * `errors.ts`, which holds the kernel's codes and its own.
 */
import { errors as control } from './control/errors.js';
import { errors as drivers } from './drivers/errors.js';
import { errors as hooks } from './hooks/errors.js';
import { errors as power } from './power/errors.js';
import { errors as reactor } from './reactor/errors.js';
import { errors as rollout } from './rollout/errors.js';
import { errors as updates } from './updates/errors.js';

export * from './core/errors.js';

export const errors = {
  ...control,
  ...drivers,
  ...hooks,
  ...power,
  ...reactor,
  ...rollout,
  ...updates,
} as const;
