import type { Clock } from './clock.js';

/**
 * `work`, or the error `late()` makes once `ms` have passed on `clock`, whichever comes first.
 * The work is not stopped (a promise cannot be), only no longer awaited.
 */
export async function within<T>(clock: Clock, ms: number, work: Promise<T>, late: () => Error): Promise<T> {
  let timer: { cancel(): void } | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(late()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    timer?.cancel();
  }
}
