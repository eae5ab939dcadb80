import { errors } from '../core/errors.js';

/** A share of a set of units: `5%` or a count (`3`). */
export type Share = { percent: number } | { count: number };

export function parseShare(text: string, what: string): Share {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  if (!m) throw errors.CLI_ARG(`${what} ${text}: a percentage such as 5% or a count such as 3`);
  const n = Number(m[1]);
  if (m[2] === '%') {
    if (n > 100) throw errors.CLI_ARG(`${what} ${text}: at most 100%`);
    return { percent: n };
  }
  if (!Number.isInteger(n)) throw errors.CLI_ARG(`${what} ${text}: a count is a whole number`);
  return { count: n };
}

/** How many of `n` a share is, rounded up: 1% of 50 units is one unit, not none. */
export function shareOf(share: Share, n: number): number {
  return 'count' in share ? Math.min(share.count, n) : Math.ceil((share.percent * n) / 100 - 1e-9);
}

/**
 * `--waves 1%,10%,100%`: how many units have been reached after each wave (cumulative), for `n`
 * units. Each wave reaches at least one unit more than the one before; the last reaches all.
 */
export function waveEnds(spec: string, n: number): number[] {
  const shares = spec.split(',').map((s) => parseShare(s, '--waves'));
  const ends: number[] = [];
  let lastRaw = 0;
  for (const s of shares) {
    const raw = shareOf(s, n);
    if (raw < lastRaw)
      throw errors.CLI_ARG(
        `--waves ${spec}: the waves are cumulative, each as large as the one before or larger`,
      );
    lastRaw = raw;
    const prev = ends.at(-1) ?? 0;
    if (prev === n) break;
    ends.push(Math.min(n, Math.max(raw, prev + 1)));
  }
  if (ends.at(-1) !== n) ends.push(n);
  return ends;
}

/** Whether a wave's failures pass what `--max-failures` allows (a share of the wave's units). */
export function tooMany(failures: number, waveSize: number, max: Share): boolean {
  return 'count' in max ? failures > max.count : failures * 100 > max.percent * waveSize;
}
