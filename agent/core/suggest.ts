import { distance } from 'fastest-levenshtein';

/** "did you mean" for a misspelt name: the closest candidate within a third of its length. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestScore = (Math.max(2, Math.ceil(word.length / 3)) + 1) * 100;
  for (const c of candidates) {
    // Edit distance first; on a tie, the candidate closer in length (a swap beats a shorter word).
    const score = distance(w, c.toLowerCase()) * 100 + Math.abs(c.length - word.length);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best === undefined ? '' : ` (did you mean '${best}'?)`;
}
