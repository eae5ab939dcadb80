import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';

/** How the server answers one file: normally, slowly, cut off, wrong, or failing. */
export type Mode =
  | { kind: 'ok' }
  /** `chunk` bytes every `everyMs`. */
  | { kind: 'slow'; chunk: number; everyMs: number }
  /** Drops the connection after `bytes` of the body, for the first `times` requests. */
  | { kind: 'drop'; bytes: number; times: number }
  /** Serves other bytes (same size) for the first `times` requests. */
  | { kind: 'wrong'; times: number }
  /** Answers `status` for the first `times` requests. */
  | { kind: 'status'; status: number; times: number };

export interface Served {
  body: Buffer;
  mode: Mode;
}

/**
 * A real HTTP server on 127.0.0.1 for update downloads: honours `Range: bytes=N-` (206), and can
 * serve slowly, drop the connection mid-file, serve wrong bytes or answer an error status.
 * Every request is recorded (path and range).
 */
export async function artifactServer() {
  const files = new Map<string, Served>();
  const requests: { path: string; range?: string }[] = [];
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const p = req.url ?? '/';
    requests.push({ path: p, ...(req.headers.range ? { range: req.headers.range } : {}) });
    const f = files.get(p);
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    const n = (hits.get(p) ?? 0) + 1;
    hits.set(p, n);
    const m = f.mode;
    if (m.kind === 'status' && n <= m.times) {
      res.writeHead(m.status).end();
      return;
    }
    let body = m.kind === 'wrong' && n <= m.times ? Buffer.alloc(f.body.length, 0x5a) : f.body;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = range ? Number(range[1]) : 0;
    if (from >= body.length && range) {
      res.writeHead(416).end();
      return;
    }
    const head: http.OutgoingHttpHeaders = { 'content-length': body.length - from };
    if (range) head['content-range'] = `bytes ${from}-${body.length - 1}/${body.length}`;
    res.writeHead(range ? 206 : 200, head);
    body = body.subarray(from);
    if (m.kind === 'drop' && n <= m.times) {
      res.write(body.subarray(0, Math.max(0, m.bytes - from)));
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (m.kind === 'slow') {
      let at = 0;
      const tick = () => {
        if (res.destroyed) return;
        res.write(body.subarray(at, at + m.chunk));
        at += m.chunk;
        if (at >= body.length) res.end();
        else setTimeout(tick, m.everyMs);
      };
      tick();
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );

  /** Serves `body` at `/name`; the artifact fields a desired status lists for it. */
  function serve(name: string, body: Buffer, mode: Mode = { kind: 'ok' }) {
    files.set(`/${name}`, { body, mode });
    hits.delete(`/${name}`);
    return {
      urls: [`${base}/${name}`],
      sha256: createHash('sha256').update(body).digest('hex'),
      size: body.length,
    };
  }
  return { base, serve, requests, server, hits: (name: string) => hits.get(`/${name}`) ?? 0 };
}
