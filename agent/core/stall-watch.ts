/** How often the event loop is sampled. */
const SAMPLE_MS = 500;

/**
 * Watches the real event loop (not the agent's clock: a stall is real time lost): when a sample
 * comes more than `limitMs` late, something blocked the loop that long. Returns the stop.
 */
export function watchStalls(onStall: (ms: number) => void, limitMs = 1000): () => void {
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - SAMPLE_MS;
    last = now;
    if (late > limitMs) onStall(Math.round(late));
  }, SAMPLE_MS);
  timer.unref();
  return () => clearInterval(timer);
}
