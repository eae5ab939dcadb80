/** How often the event loop is sampled. */
const SAMPLE_MS = 500;

/** Monotonic milliseconds. Not `performance.now()`: its first use loads perf_hooks, ~2 ms of a start. */
const now = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * Watches the real event loop (not the agent's clock: a stall is real time lost): when a sample
 * comes more than `limitMs` late, something blocked the loop that long. Returns the stop.
 */
export function watchStalls(onStall: (ms: number) => void, limitMs = 1000): () => void {
  let last = now();
  const timer = setInterval(() => {
    const t = now();
    const late = t - last - SAMPLE_MS;
    last = t;
    if (late > limitMs) onStall(Math.round(late));
  }, SAMPLE_MS);
  timer.unref();
  return () => clearInterval(timer);
}
