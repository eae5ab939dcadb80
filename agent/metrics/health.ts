import type { AgentStatus } from '../parts/context.js';

/** How late a turn of the event loop may come before the agent is called unhealthy. */
export const LOOP_LATE_MS = 1000;

export interface Health {
  ok: boolean;
  /** Why not, one line each. */
  reasons: string[];
  services: Record<string, string>;
  loop_ms: number;
}

/** The agent's health (`GET /health`, as Fluent Bit's): every service running, and the event loop answering. */
export function healthOf(status: AgentStatus, loopMs: number): Health {
  const reasons: string[] = [];
  const services: Record<string, string> = {};
  for (const [name, s] of Object.entries(status.services)) {
    services[name] = s.state;
    if (s.state !== 'running')
      reasons.push(`service ${name} is ${s.state}${s.lastError ? `: ${s.lastError}` : ''}`);
  }
  if (loopMs > LOOP_LATE_MS) reasons.push(`the event loop answered after ${Math.round(loopMs)} ms`);
  return { ok: reasons.length === 0, reasons, services, loop_ms: Math.round(loopMs * 10) / 10 };
}

/** How long a turn of the event loop takes to come round now. */
export function loopTurn(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => setImmediate(() => resolve(performance.now() - t0)));
}
