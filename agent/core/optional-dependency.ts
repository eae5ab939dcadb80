import { createRequire } from 'node:module';
import { errorText } from './errors.js';

/**
 * An optional dependency (a native addon, or a library a unit may go without), or why it cannot be
 * had. "Not installed" and "installed but did not load" call for different fixes: an addon built
 * against another Node's headers is on disk and fails at dlopen, and the message says so and how to
 * mend it, with the loader's own first line. `from` is where it is resolved from (this file by default).
 */
export function requireOptional<T>(name: string, from: string = import.meta.url): T | string {
  try {
    return createRequire(from)(name) as T;
  } catch (e) {
    const first = errorText(e).split('\n')[0]!;
    const missing =
      (e as { code?: string }).code === 'MODULE_NOT_FOUND' &&
      first.startsWith(`Cannot find module '${name}'`);
    return missing
      ? `${name} is not installed`
      : `${name} is installed but did not load (${first}); rebuild it for this node: npm rebuild ${name}`;
  }
}
