import { Duration } from '../../schemas/common.js';
import { errors } from '../errors.js';

/** A command-line argument that must be JSON; the error names the argument. */
export function jsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw errors.CLI_ARG(`${what} is not JSON: ${text}`);
  }
}

/** A command-line duration (`250ms`, `30s`, `5m` or seconds), in ms; the error names the option. */
export function durationArg(text: string, what: string): number {
  const d = Duration.safeParse(/^\d+(\.\d+)?$/.test(text) ? Number(text) : text);
  if (!d.success || d.data <= 0)
    throw errors.CLI_ARG(`${what} takes a duration such as 30s or 5m, not ${text}`);
  return d.data;
}
