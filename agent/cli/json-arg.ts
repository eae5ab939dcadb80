/** A command-line argument that must be JSON; the error names the argument. */
export function jsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not JSON: ${text}`);
  }
}
