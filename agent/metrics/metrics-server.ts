import http from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Extension } from '../core/types.js';
import { errors, errorText } from '../errors.js';
import type { Agent } from '../runtime/agent.js';

/**
 * The Prometheus endpoint (`metrics.listen`): every figure is read from the counters the agent
 * keeps in place anyway, at scrape time, so an agent that is not scraped pays nothing. The
 * process's own metrics (RSS, event-loop lag, heap, GC) come from prom-client's defaults.
 */
export class MetricsServer implements Extension {
  readonly name = 'metrics';
  private server?: http.Server;
  readonly registry = new Registry();

  constructor(
    private readonly agent: Agent,
    private readonly listen: string,
  ) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 20 });
    const counter = (name: string, help: string, labelNames: string[], fill: (c: Counter) => void) =>
      new Counter({
        name,
        help,
        labelNames,
        registers: [r],
        collect() {
          this.reset();
          fill(this);
        },
      });
    const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [r],
        collect() {
          this.reset();
          fill(this);
        },
      });

    counter(
      'pitcrew_events_total',
      'Events dispatched on the bus, by tag family (first segment)',
      ['family'],
      (c) => {
        for (const [family, n] of agent.bus.families()) c.inc({ family }, n);
      },
    );
    const perRule = [
      ['pitcrew_rule_runs_total', 'Rule runs started', 'runs'],
      ['pitcrew_rule_skips_total', 'Matched events a rule skipped (throttle, mode, disabled)', 'skips'],
      ['pitcrew_rule_errors_total', 'Rule runs that failed', 'errors'],
    ] as const;
    for (const [name, help, field] of perRule)
      counter(name, help, ['rule'], (c) => {
        for (const x of agent.reactor.list()) c.inc({ rule: x.name }, x[field]);
      });
    const services = () => Object.entries(this.agent.status().services);
    counter('pitcrew_worker_iterations_total', 'Worker iterations', ['service', 'worker'], (c) => {
      for (const [service, s] of services())
        for (const w of s.workers) c.inc({ service, worker: w.name }, w.iterations);
    });
    counter('pitcrew_worker_errors_total', 'Failed messages of a worker', ['service', 'worker'], (c) => {
      for (const [service, s] of services())
        for (const w of s.workers) {
          const n = w.errors.reduce((sum, m) => sum + Object.values(m).reduce((a, b) => a + b, 0), 0);
          c.inc({ service, worker: w.name }, n);
        }
    });
    counter('pitcrew_service_restarts_total', 'Service restarts', ['service'], (c) => {
      for (const [service, s] of services()) c.inc({ service }, s.restarts);
    });
    gauge('pitcrew_service_up', '1 while the service runs', ['service'], (g) => {
      for (const [service, s] of services()) g.set({ service }, s.state === 'running' ? 1 : 0);
    });
    gauge('pitcrew_outbox_records', 'Records waiting in the outbox', [], (g) =>
      g.set(agent.status().outbox.queued),
    );
    gauge('pitcrew_outbox_bytes', 'Bytes waiting in the outbox', [], (g) =>
      g.set(agent.status().outbox.bytes),
    );
    counter('pitcrew_outbox_dropped_total', 'Records dropped from a full outbox', [], (c) =>
      c.inc(agent.status().outbox.dropped),
    );
    gauge('pitcrew_cloud_connected', '1 while the cloud link is connected', [], (g) =>
      g.set(agent.status().cloud.state === 'connected' ? 1 : 0),
    );
  }

  async start(): Promise<void> {
    const at = this.listen.lastIndexOf(':');
    const host = this.listen.slice(0, at).replace(/^\[|\]$/g, '');
    const port = Number(this.listen.slice(at + 1));
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
        res.writeHead(404).end('metrics are at /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(`${errorText(e)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) =>
        reject(
          errors.START_FAILED('the metrics endpoint', `cannot listen on ${this.listen}: ${errorText(e)}`),
        ),
      );
      server.listen(port, host, () => resolve());
    });
    this.server = server;
  }

  /** The port it listens on (the one asked for, or the one given for port 0). */
  get port(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
