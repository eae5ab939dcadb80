import { define, errors as kernel, list } from '../core/errors.js';

export * from '../core/errors.js';

/** The error catalogue for hooks and handlers: the kernel's codes and their own. */
export const errors = {
  ...kernel,
  MODULE_EXPORT: define(
    'PITCREW_MODULE_EXPORT',
    (file: string, name: string) => `${file} has no exported function '${name}'`,
  ),
  HOOK_UNKNOWN: define(
    'PITCREW_HOOK_UNKNOWN',
    (kind: string, name: string, hint: string) => `unknown ${kind} '${name}'${hint}`,
  ),
  HOOK_KIND: define(
    'PITCREW_HOOK_KIND',
    (name: string, is: string, wanted: string) => `'${name}' is a ${is}, not a ${wanted}`,
  ),
  HANDLER_UNKNOWN: define(
    'PITCREW_HANDLER_UNKNOWN',
    (service: string, handler: string, known: readonly string[]) =>
      `service '${service}' has no handler '${handler}' (handlers: ${list(known)})`,
  ),
} as const;
