import { define, errors as kernel } from '../core/errors.js';

export * from '../core/errors.js';

/** The error catalogue for config rollout (signed envelopes and bundles): the kernel's codes and their own. */
export const errors = {
  ...kernel,
  SIGNATURE: define('PITCREW_SIGNATURE', (why: string) => `rejected: ${why}`),
  BUNDLE_VERSION: define(
    'PITCREW_BUNDLE_VERSION',
    (version: number, applied: number) =>
      `bundle version ${version} is not newer than the applied ${applied}: a replay or a downgrade, refused`,
  ),
} as const;
