import { define, errors as kernel } from '../core/errors.js';

export * from '../core/errors.js';

/** The error catalogue for SOTA/FOTA updates: the kernel's codes and their own. */
export const errors = {
  ...kernel,
  DESIRED_STATUS: define('PITCREW_DESIRED_STATUS', (why: string) => `desired status rejected: ${why}`),
  UPDATE_STATE: define(
    'PITCREW_UPDATE_STATE',
    (kind: string, action: string, state: string, when: string) =>
      `cannot ${action} the ${kind} update: it is ${state}, and ${action} is only possible when it is ${when}`,
  ),
  UPDATE_HTTP: define(
    'PITCREW_UPDATE_HTTP',
    (url: string, why: string) => `download of ${url} failed: ${why}`,
  ),
  UPDATE_VERIFY: define(
    'PITCREW_UPDATE_VERIFY',
    (id: string, why: string) =>
      `download of ${id} does not verify (${why}); it was deleted and is fetched again`,
  ),
  UPDATE_GAVE_UP: define(
    'PITCREW_UPDATE_GAVE_UP',
    (id: string, why: string) =>
      `download of ${id} gave up ${why}: the item failed (check its URLs; raise updates.download.retry to wait longer)`,
  ),
  UPDATE_DISK: define(
    'PITCREW_UPDATE_DISK',
    (dir: string, need: number, free: number) =>
      `${dir} has ${free} bytes free, the download needs ${need}: free space on the unit, then send the desired status again`,
  ),
  UPDATE_INSTALL: define(
    'PITCREW_UPDATE_INSTALL',
    (id: string, why: string) => `installing ${id} failed: ${why}`,
  ),
  UPDATE_ARCHIVE: define(
    'PITCREW_UPDATE_ARCHIVE',
    (entry: string, why: string) =>
      `archive entry '${entry}' ${why}: the archive was rejected, nothing was installed`,
  ),
  INSTANCE_ENTRY: define(
    'PITCREW_INSTANCE_ENTRY',
    (where: string, why: string) =>
      `no entry point for the service at ${where}: ${why} (an OCI image layout or a pitcrew-service.yaml with run: [argv])`,
  ),
  INSTANCE_EXIT: define(
    'PITCREW_INSTANCE_EXIT',
    (instance: string, how: string) => `instance ${instance} ${how}; it is restarted with the backoff`,
  ),
  INSTANCE_REVERTED: define(
    'PITCREW_INSTANCE_REVERTED',
    (service: string, version: string, to: string) =>
      `every instance of ${service} ${version} failed before it was up: reverted to ${to}`,
  ),
} as const;
