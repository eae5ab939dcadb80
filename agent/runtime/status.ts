import type { CloudLink } from '../cloud/cloud-link.js';
import type { Outbox } from '../cloud/outbox.js';
import type { Supervisor } from '../core/supervisor.js';
import type { AgentStatus } from '../parts/context.js';

/** Each service's state, its workers and its driver's own status. */
export function servicesStatus(services: ReadonlyMap<string, Supervisor>): AgentStatus['services'] {
  const out: AgentStatus['services'] = {};
  for (const [name, sup] of services) {
    const s = sup.status();
    const workers =
      s.state === 'running' ? [...(sup.runtime?.workers.values() ?? [])].map((w) => w.status()) : [];
    const driver = s.state === 'running' ? sup.runtime?.driverStatus() : undefined;
    out[name] = {
      ...s,
      workers,
      events_dropped: sup.runtime?.inlet.dropped ?? 0,
      ...(driver ? { driver } : {}),
    };
  }
  return out;
}

/** What waits in the outbox, and for how long the oldest has. */
export function outboxStatus(box: Outbox | undefined, now: number): AgentStatus['outbox'] {
  if (!box) return { queued: 0, bytes: 0, dropped: 0 };
  const oldest = box.oldest();
  return {
    queued: box.size,
    bytes: box.sizeBytes,
    dropped: box.dropped,
    ...(oldest !== undefined ? { oldest_age: Math.max(0, now - oldest) } : {}),
  };
}

/** Each service's state, restarts, last error and workers, as unit status items (DESIGN §5). */
export function reportServices(cloud: CloudLink, services: AgentStatus['services']): void {
  for (const [name, s] of Object.entries(services)) {
    cloud.update('agent', name, {
      name,
      state: s.state,
      restarts: s.restarts,
      ...(s.lastError ? { error: s.lastError, code: s.code } : {}),
      workers: s.workers.map((w) => ({ name: w.name, state: w.state })),
    });
  }
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** The process's memory, MB: resident, V8 heap in use, and outside the heap (buffers, SQLite). */
export function memoryMB(): AgentStatus['memory'] {
  const m = process.memoryUsage();
  return { rss: mb(m.rss), heap: mb(m.heapUsed), external: mb(m.external + m.arrayBuffers) };
}
