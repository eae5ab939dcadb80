/** Longest line read from a local input (control socket request, replay event): 1 MiB. */
export const MAX_LINE = 1024 * 1024;

/** Stands in for a line longer than the bound: its text was never held in memory. */
export const TOO_LONG = Symbol('too long');

/**
 * Splits text chunks, as they arrive, into lines of at most `max` characters. A longer line yields
 * TOO_LONG once and is skipped as it streams past, so a huge line costs no more memory than a
 * short one.
 */
export class LineSplitter {
  private buf = '';
  private skipping = false;

  constructor(private readonly max = MAX_LINE) {}

  /** Calls `line` for each line the chunk completes. */
  push(chunk: string, line: (l: string | typeof TOO_LONG) => void): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      if (this.skipping) this.skipping = false;
      else if (this.buf.length + piece.length > this.max) line(TOO_LONG);
      else line(this.buf + piece);
      this.buf = '';
    }
    if (this.skipping) return;
    const rest = chunk.slice(start);
    if (this.buf.length + rest.length > this.max) {
      this.buf = '';
      this.skipping = true;
      line(TOO_LONG);
    } else this.buf += rest;
  }

  /** The unterminated last line, if any. */
  end(): string | undefined {
    const rest = !this.skipping && this.buf ? this.buf : undefined;
    this.buf = '';
    return rest;
  }
}

/** The lines of an async source of text chunks, split as LineSplitter does. */
export async function* readLines(
  source: AsyncIterable<string>,
  max = MAX_LINE,
): AsyncGenerator<string | typeof TOO_LONG> {
  const split = new LineSplitter(max);
  const out: (string | typeof TOO_LONG)[] = [];
  const take = (l: string | typeof TOO_LONG) => out.push(l);
  for await (const chunk of source) {
    split.push(chunk, take);
    yield* out;
    out.length = 0;
  }
  const rest = split.end();
  if (rest) yield rest;
}
