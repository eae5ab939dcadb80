import http from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { errors, errorText } from '../core/errors.js';
import type { AgentStatus, Part, PartContext } from '../parts/context.js';
import { healthOf, loopTurn } from './health.js';

/**
 * The Prometheus endpoint (`metrics.listen`): every figure is read from the counters the agent
 * keeps in place anyway, at scrape time, so an agent that is not scraped pays nothing. The
 * process's own metrics (RSS, event-loop lag, heap, GC) come from prom-client's defaults.
 */
export class MetricsServer implements Part {
  readonly name = 'metrics';
  private server?: http.Server;
  readonly registry = new Registry();

  /** The agent's status, taken once per scrape: every metric below reads this one snapshot. */
  private scraped?: AgentStatus;

  private readonly listen: string;

  constructor(
    private readonly cx: PartContext<{ listen: string }>,
    /** A scraper needs one connection at a time; idle or half-open ones are closed, the rest refused. */
    private readonly limits = { maxConnections: 32, idleMs: 10_000 },
  ) {
    this.listen = cx.section.listen;
    const r = this.registry;
    collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 20 });
    const status = () => this.scraped ?? cx.status();
    /** A metric whose values are filled in at scrape time from the agent's own counters. */
    const live = <M extends { reset(): void }>(
      name: string,
      help: string,
      labelNames: string[],
      fill: (m: M, s: AgentStatus) => void,
    ) => ({
      name,
      help,
      labelNames,
      registers: [r],
      collect(this: M) {
        this.reset();
        fill(this, status());
      },
    });
    const counter = (...a: Parameters<typeof live<Counter>>) => new Counter(live<Counter>(...a));
    const gauge = (...a: Parameters<typeof live<Gauge>>) => new Gauge(live<Gauge>(...a));

    counter(
      'pitcrew_events_total',
      'Events dispatched on the bus, by tag family (first segment)',
      ['family'],
      (c) => {
        for (const [family, n] of cx.bus.families()) c.inc({ family }, n);
      },
    );
    const perRule = [
      ['pitcrew_rule_runs_total', 'Rule runs started', 'runs'],
      ['pitcrew_rule_skips_total', 'Matched events a rule skipped (throttle, mode, disabled)', 'skips'],
      ['pitcrew_rule_errors_total', 'Rule runs that failed', 'errors'],
    ] as const;
    for (const [name, help, field] of perRule)
      counter(name, help, ['rule'], (c) => {
        for (const x of cx.operator.rules()) c.inc({ rule: x.name }, x[field]);
      });
    counter('pitcrew_worker_iterations_total', 'Worker iterations', ['service', 'worker'], (c, s) => {
      for (const [service, sv] of Object.entries(s.services))
        for (const w of sv.workers) c.inc({ service, worker: w.name }, w.iterations);
    });
    counter('pitcrew_worker_errors_total', 'Failed messages of a worker', ['service', 'worker'], (c, s) => {
      for (const [service, sv] of Object.entries(s.services))
        for (const w of sv.workers) {
          const n = w.errors.reduce((sum, m) => sum + Object.values(m).reduce((a, b) => a + b, 0), 0);
          c.inc({ service, worker: w.name }, n);
        }
    });
    counter('pitcrew_service_restarts_total', 'Service restarts', ['service'], (c, s) => {
      for (const [service, sv] of Object.entries(s.services)) c.inc({ service }, sv.restarts);
    });
    gauge('pitcrew_service_up', '1 while the service runs', ['service'], (g, s) => {
      for (const [service, sv] of Object.entries(s.services))
        g.set({ service }, sv.state === 'running' ? 1 : 0);
    });
    gauge('pitcrew_outbox_records', 'Records waiting in the outbox', [], (g, s) => g.set(s.outbox.queued));
    gauge('pitcrew_outbox_bytes', 'Bytes waiting in the outbox', [], (g, s) => g.set(s.outbox.bytes));
    counter('pitcrew_outbox_dropped_total', 'Records dropped from a full outbox', [], (c, s) =>
      c.inc(s.outbox.dropped),
    );
    gauge('pitcrew_cloud_connected', '1 while the cloud link is connected', [], (g, s) =>
      g.set(s.cloud.state === 'connected' ? 1 : 0),
    );
  }

  async start(): Promise<void> {
    const at = this.listen.lastIndexOf(':');
    const host = this.listen.slice(0, at).replace(/^\[|\]$/g, '');
    const port = Number(this.listen.slice(at + 1));
    const { idleMs, maxConnections } = this.limits;
    const server = http.createServer(
      {
        headersTimeout: idleMs,
        requestTimeout: idleMs,
        keepAliveTimeout: Math.min(5000, idleMs),
        connectionsCheckingInterval: Math.min(1000, idleMs),
      },
      (req, res) => {
        const route = (req.url ?? '/').split('?')[0];
        if (req.method === 'GET' && route === '/health') {
          void this.health(res);
          return;
        }
        if (req.method !== 'GET' || route !== '/metrics') {
          res.writeHead(404).end('metrics are at /metrics, health at /health\n');
          return;
        }
        this.scraped = this.cx.status();
        this.registry
          .metrics()
          .then(
            (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
            (e: unknown) => res.writeHead(500).end(`${errorText(e)}\n`),
          )
          .finally(() => {
            this.scraped = undefined;
          });
      },
    );
    server.maxConnections = maxConnections;
    // A connection that sends nothing (half-open, or held open on purpose) is closed.
    server.setTimeout(idleMs, (sock) => sock.destroy());
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

  /** 200 `{ok: true, …}` while every service runs and the event loop answers; 503 with the reasons otherwise. */
  private async health(res: http.ServerResponse): Promise<void> {
    const h = healthOf(this.cx.status(), await loopTurn());
    res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(h)}\n`);
  }

  /** The port it listens on (the one asked for, or the one given for port 0). */
  get port(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    await closed;
  }
}
