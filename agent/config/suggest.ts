import { distance } from 'fastest-levenshtein';

/** "did you mean" for a misspelt name: the closest candidate within a third of its length. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestD = Math.max(2, Math.ceil(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best === undefined ? '' : ` (did you mean '${best}'?)`;
}
