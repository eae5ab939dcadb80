import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { WorkerAction } from '../../schemas/common.js';
import { MAX_LINE, readLines, TOO_LONG } from '../core/lines.js';
import { clearStaleSocket } from '../core/socket-path.js';
import { isTag } from '../core/tags.js';
import type { Part, PartContext } from '../parts/context.js';
import { errorCode, errors, errorText } from './errors.js';
import { ControlRequest, type ControlResponse } from './protocol.js';
import { tap } from './tap.js';

type Handler = (args: Record<string, unknown>, sock: net.Socket) => Promise<unknown> | unknown;

/** Deepest JSON nesting a request may have. */
export const MAX_DEPTH = 64;
/** Connections at once: a local client that opens thousands cannot use up the agent's descriptors. */
export const MAX_CONNECTIONS = 64;
/** Answers one connection may have in work at once. */
const MAX_IN_FLIGHT = 16;
/** Bytes of answers waiting for a client that does not read, before its requests are no longer read. */
const MAX_UNREAD = 1024 * 1024;

/** A connection with no request for this long is closed. */
export const IDLE_MS = 60_000;

const str = (args: Record<string, unknown>, key: string): string => {
  const v = args[key];
  if (typeof v !== 'string' || !v) throw errors.CONTROL_REQUEST(`'${key}' is required`);
  return v;
};

/** Nesting depth of a JSON text, counted without parsing it (brackets inside strings skipped). */
function depthOf(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) max = Math.max(max, ++depth);
    else if (c === 93 || c === 125) depth--;
  }
  return max;
}

/** `signals.obd.*`, `*rpm*`, `obd` (a bare word: anything containing it): shell-style, case-sensitive. */
function globPattern(p: string): RegExp {
  const body = p
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return /[*?]/.test(p) ? new RegExp(`^${body}$`) : new RegExp(body);
}

const fail = (id: ControlResponse['id'], e: unknown): ControlResponse => ({
  id,
  ok: false,
  code: errorCode(e),
  error: errorText(e),
});

/** The local control socket (DESIGN §9): JSON lines, mode 0600. */
export class ControlServer implements Part {
  readonly name = 'control';
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly commands = new Map<string, Handler>();

  private readonly socketPath: string;

  constructor(
    cx: PartContext<{ socket: string }>,
    private readonly limits = { idleMs: IDLE_MS, maxConnections: MAX_CONNECTIONS },
  ) {
    this.socketPath = cx.section.socket;
    const { operator, ports } = cx;
    this.commands.set('status', () => cx.status());
    this.commands.set('worker', async (a) => {
      const action = str(a, 'action');
      if (action === 'list') {
        return Object.entries(cx.status().services).flatMap(([service, s]) =>
          s.workers.map((w) => ({ service, ...w })),
        );
      }
      const act = WorkerAction.safeParse(action);
      if (!act.success)
        throw errors.CONTROL_REQUEST(
          `unknown worker action '${action}' (list, ${WorkerAction.options.join(', ')})`,
        );
      return operator.worker(str(a, 'service'), str(a, 'name'), act.data);
    });
    this.commands.set('emit', (a) => {
      const tag = str(a, 'tag');
      if (!isTag(tag))
        throw errors.CONTROL_REQUEST(
          `'${tag}' is not an event tag: lowercase segments of letters, digits, _ and - joined by /`,
        );
      const data = a.data ?? {};
      if (typeof data !== 'object' || Array.isArray(data) || data === null)
        throw errors.CONTROL_REQUEST('event data must be a JSON object');
      return cx.bus.emit(tag, data as Record<string, unknown>, 'control');
    });
    this.commands.set('call', (a) =>
      operator.call(
        str(a, 'service'),
        str(a, 'handler'),
        (a.args ?? {}) as Record<string, unknown>,
        typeof a.timeout === 'number' && a.timeout > 0 ? a.timeout : undefined,
      ),
    );
    this.commands.set('rules', () => operator.rules());
    this.commands.set('rollout', async (a) => {
      const action = str(a, 'action');
      if (!ports.rollout || !['status', 'pull'].includes(action))
        throw errors.CONTROL_REQUEST(`rollout ${action}: status or pull, on an agent started by pitcrew run`);
      if (action === 'pull') await ports.rollout.pull();
      return ports.rollout.status();
    });
    this.commands.set('update', (a) => {
      const action = str(a, 'action');
      if (!ports.updates) throw errors.UPDATE_OFF('fota or sota');
      if (action === 'status') return ports.updates.status();
      const kind = str(a, 'kind');
      if (!['start', 'cancel'].includes(action) || (kind !== 'fota' && kind !== 'sota'))
        throw errors.CONTROL_REQUEST(
          `update ${action} ${kind}: status, start fota|sota, or cancel fota|sota`,
        );
      if (action === 'start') ports.updates.startUpdate(kind);
      else ports.updates.cancel(kind);
      return ports.updates.status();
    });
    this.commands.set('power', (a) => {
      const action = str(a, 'action');
      if (action !== 'status') throw errors.CONTROL_REQUEST(`power ${action}: status`);
      if (!ports.power) throw errors.CONTROL_REQUEST('the power section is not configured');
      return ports.power.status();
    });
    this.commands.set('signals', (a) => {
      const pattern = a.pattern === undefined ? undefined : globPattern(str(a, 'pattern'));
      const now = cx.clock.now();
      return cx.signals
        .entries()
        .map(([key, m]) => ({ signal: `signals.${key}`, value: m.value, unit: m.unit, age_ms: now - m.ts }))
        .filter((s) => !pattern || pattern.test(s.signal))
        .sort((x, y) => (x.signal < y.signal ? -1 : 1));
    });
    this.commands.set('trace', (a) => operator.traces(str(a, 'rule')));
    // The connection becomes a stream of events once the answer is written: no idle timeout.
    this.commands.set('tap', (a, sock) => {
      const pattern = a.pattern === undefined ? '#' : str(a, 'pattern');
      sock.setTimeout(0);
      tap(sock, cx.bus, pattern);
      return { pattern };
    });
  }

  async start(): Promise<void> {
    mkdirSync(path.dirname(this.socketPath), { recursive: true });
    await clearStaleSocket(this.socketPath);
    const server = net.createServer((sock) => void this.serve(sock));
    server.maxConnections = this.limits.maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    chmodSync(this.socketPath, 0o600);
    this.server = server;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    // A client that keeps its connection open must not hold up the agent's shutdown.
    for (const s of this.sockets) s.destroy();
    await closed;
    if (this.server) rmSync(this.socketPath, { force: true });
    this.server = undefined;
  }

  private async serve(sock: net.Socket): Promise<void> {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setTimeout(this.limits.idleMs, () => sock.destroy());
    sock.setEncoding('utf8');
    const inFlight = new Set<Promise<void>>();
    const reply = (r: ControlResponse) => {
      if (sock.writable) sock.write(`${this.serialise(r)}\n`);
    };
    try {
      for await (const line of readLines(sock as AsyncIterable<string>)) {
        if (line === TOO_LONG) {
          reply(fail(undefined, errors.CONTROL_REQUEST(`request longer than ${MAX_LINE} bytes`)));
          sock.end();
          return;
        }
        if (!line.trim()) continue;
        const p: Promise<void> = this.answer(line, sock)
          .then(reply)
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        // A client that sends without reading holds at most MAX_IN_FLIGHT answers in work and
        // MAX_UNREAD bytes of answers; past either its requests wait, unread, in its own socket.
        if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
        if (sock.writableLength > MAX_UNREAD)
          await new Promise((resolve) => {
            sock.once('drain', resolve);
            sock.once('close', resolve);
          });
      }
    } catch {
      sock.destroy();
    }
  }

  /** An answer that cannot be written as JSON (a cycle, a BigInt, too deep) becomes an error answer. */
  private serialise(r: ControlResponse): string {
    try {
      return JSON.stringify(r);
    } catch (e) {
      return JSON.stringify(fail(r.id, errors.CONTROL_ANSWER(errorText(e))));
    }
  }

  private async answer(line: string, sock: net.Socket): Promise<ControlResponse> {
    if (depthOf(line) > MAX_DEPTH)
      return fail(undefined, errors.CONTROL_REQUEST(`JSON nested deeper than ${MAX_DEPTH} levels`));
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return fail(undefined, errors.CONTROL_REQUEST('not a JSON line'));
    }
    const parsed = ControlRequest.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = issue.path.length ? `'${issue.path.join('.')}': ` : '';
      const cmds = ControlRequest.shape.cmd.options.join(', ');
      const why =
        issue.path[0] === 'cmd' ? `unknown command (commands: ${cmds})` : `${where}${issue.message}`;
      return fail(undefined, errors.CONTROL_REQUEST(why));
    }
    const req = parsed.data;
    const handler = this.commands.get(req.cmd)!;
    try {
      return { id: req.id, ok: true, result: (await handler(req.args, sock)) ?? null };
    } catch (e) {
      return fail(req.id, e);
    }
  }
}
