import type { RestartT } from '../../schemas/services.js';

/** Delay before restart number `n` (0-based): exponential, capped, with ± jitter. */
export function backoffDelay(r: RestartT, n: number, random: () => number = Math.random): number {
  const base = Math.min(r.max_delay, r.delay * r.factor ** n);
  return Math.max(0, Math.round(base * (1 + r.jitter * (2 * random() - 1))));
}
