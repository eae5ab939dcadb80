import path from 'node:path';
import { type Composed, positionOf } from './compose.js';
import type { KeyPath } from './errors.js';
import type { SchemaProblem } from './schema-issues.js';

/** Whether a `host:port` listens on loopback only. */
export function loopback(address: string): boolean {
  const host = address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What the config's listeners may not do (DESIGN §10): two listeners on one unix socket path (the
 * gRPC API and the control socket, or gRPC twice), and the unauthenticated update API beyond
 * loopback without TLS. Paths compared as the runtime resolves them, against their files.
 */
export function listenerProblems(c: Composed): SchemaProblem[] {
  const data = c.data;
  if (!isObj(data)) return [];
  const grpc = isObj(data.updates) && isObj(data.updates.grpc) ? data.updates.grpc : undefined;
  if (!grpc) return [];
  const problems: SchemaProblem[] = [];
  const resolve = (p: string, at: KeyPath) => path.resolve(path.dirname(positionOf(c, at).file), p);
  const control =
    isObj(data.control) && typeof data.control.socket === 'string' ? data.control.socket : 'var/pitcrew.sock';
  const controlAt: KeyPath = isObj(data.control) ? ['control', 'socket'] : [];
  const taken = new Map<string, string>([[resolve(control, controlAt), 'control.socket']]);
  const listen = Array.isArray(grpc.listen) ? grpc.listen : [grpc.listen ?? '127.0.0.1:8093'];
  listen.forEach((l, i) => {
    if (typeof l !== 'string') return;
    const at: KeyPath = Array.isArray(grpc.listen)
      ? ['updates', 'grpc', 'listen', i]
      : ['updates', 'grpc', 'listen'];
    if (l.startsWith('unix:')) {
      const file = resolve(l.slice(5), at);
      const other = taken.get(file);
      if (other)
        problems.push({
          path: at,
          message: `${file} is already ${other}'s socket: two listeners cannot share a path`,
          atKey: false,
        });
      else taken.set(file, 'updates.grpc.listen');
    } else if (!loopback(l) && !isObj(grpc.tls))
      problems.push({
        path: at,
        message: `${l} is beyond loopback without TLS: anyone on the network could start an update; add updates.grpc.tls (with ca for client certificates) or listen on 127.0.0.1`,
        atKey: false,
      });
  });
  return problems;
}

/** A valid config's listeners that the network reaches (`validate` and `run` warn of them). */
export function listenerWarnings(config: {
  metrics?: { listen: string } | undefined;
  updates?:
    | { grpc?: { listen: string[]; tls?: { ca?: string | undefined } | undefined } | undefined }
    | undefined;
}): string[] {
  const out: string[] = [];
  if (config.metrics && !loopback(config.metrics.listen))
    out.push(
      `metrics.listen ${config.metrics.listen} is reachable from the network: the endpoint shows the agent's internals to anyone who can reach it (listen on 127.0.0.1 and scrape through a tunnel, or firewall it)`,
    );
  const grpc = config.updates?.grpc;
  for (const l of grpc?.listen ?? [])
    if (!l.startsWith('unix:') && !loopback(l) && !grpc?.tls?.ca)
      out.push(
        `updates.grpc.listen ${l} is reachable from the network with TLS but no client certificates (tls.ca): any client can start an update`,
      );
  return out;
}
