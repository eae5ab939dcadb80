import { errors } from '../errors.js';

/** A command-line argument that must be JSON; the error names the argument. */
export function jsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw errors.CLI_ARG(`${what} is not JSON: ${text}`);
  }
}
