/** Waits on real I/O (a broker, a child process) for `cond`, failing with `what` (and `debug()`) after `ms`. */
export async function waitFor(
  cond: () => boolean,
  what: string,
  debug?: () => string,
  ms = 15_000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${debug ? `: ${debug()}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
