import { define, errors as kernel } from '../core/errors.js';

export * from '../core/errors.js';

/** The error catalogue for config rollout (signed envelopes, bundles and git): the kernel's codes and their own. */
export const errors = {
  ...kernel,
  SIGNATURE: define('PITCREW_SIGNATURE', (why: string) => `rejected: ${why}`),
  BUNDLE_VERSION: define(
    'PITCREW_BUNDLE_VERSION',
    (version: number, applied: number) =>
      `bundle version ${version} is not newer than the applied ${applied}: a replay or a downgrade, refused`,
  ),
  GIT_TOO_LARGE: define(
    'PITCREW_GIT_TOO_LARGE',
    (commit: string, why: string) =>
      `commit ${commit} ${why}: it was not checked out (rollout.git.max_size and max_files bound what a unit takes from git)`,
  ),
} as const;
