/** Longest line read from a local input (control socket request, replay event): 1 MiB. */
export const MAX_LINE = 1024 * 1024;

/** Stands in for a line longer than the bound: its text was never held in memory. */
export const TOO_LONG = Symbol('too long');

/**
 * Splits text chunks into lines of at most `max` characters. A longer line yields TOO_LONG once and
 * is skipped as it streams past, so a huge line costs no more memory than a short one.
 */
export async function* readLines(
  source: AsyncIterable<string>,
  max = MAX_LINE,
): AsyncGenerator<string | typeof TOO_LONG> {
  let buf = '';
  let skipping = false;
  for await (const chunk of source) {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      if (skipping) skipping = false;
      else if (buf.length + piece.length > max) yield TOO_LONG;
      else yield buf + piece;
      buf = '';
    }
    if (skipping) continue;
    const rest = chunk.slice(start);
    if (buf.length + rest.length > max) {
      buf = '';
      skipping = true;
      yield TOO_LONG;
    } else buf += rest;
  }
  if (!skipping && buf) yield buf;
}
