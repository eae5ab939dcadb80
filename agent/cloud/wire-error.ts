import type * as z from 'zod';
import type { AosErrorInfo } from '../../schemas/wire.js';

/** Aos's code for a failure it has no more precise code for (`aos::ErrorEnum::eFailed`). */
const AOS_FAILED = 1;

/**
 * An error as the unit status carries it, in Aos's shape: pitcrew's `PITCREW_…` code leads the
 * message, since Aos's own codes do not name it.
 */
export function wireError(e: {
  message: string;
  code?: string;
  exitCode?: number;
}): z.infer<typeof AosErrorInfo> {
  return {
    aosCode: AOS_FAILED,
    exitCode: e.exitCode ?? 0,
    message: e.code ? `${e.code}: ${e.message}` : e.message,
  };
}
