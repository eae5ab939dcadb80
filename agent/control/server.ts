import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Agent, WorkerAction } from '../core/agent.js';
import type { Extension } from '../core/extension.js';
import { errorText } from '../core/pipeline.js';
import { ControlRequest, type ControlRequestT, type ControlResponse, MAX_LINE } from './protocol.js';

type Handler = (args: Record<string, unknown>) => Promise<unknown> | unknown;

const str = (args: Record<string, unknown>, key: string): string => {
  const v = args[key];
  if (typeof v !== 'string' || !v) throw new Error(`'${key}' is required`);
  return v;
};

/** The local control socket (DESIGN §9): JSON lines, mode 0600. */
export class ControlServer implements Extension {
  readonly name = 'control';
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly commands = new Map<string, Handler>();

  constructor(
    agent: Agent,
    private readonly socketPath: string,
  ) {
    this.commands.set('status', () => agent.status());
    this.commands.set('worker', async (a) => {
      const action = str(a, 'action');
      if (action === 'list') {
        return Object.entries(agent.status().services).flatMap(([service, s]) =>
          s.workers.map((w) => ({ service, ...w })),
        );
      }
      if (!['start', 'pause', 'resume', 'kill'].includes(action))
        throw new Error(`unknown worker action '${action}'`);
      return agent.worker(str(a, 'service'), str(a, 'name'), action as WorkerAction);
    });
    this.commands.set('emit', (a) => {
      const data = a.data ?? {};
      if (typeof data !== 'object' || Array.isArray(data) || data === null)
        throw new Error('event data must be a JSON object');
      return agent.bus.emit(str(a, 'tag'), data as Record<string, unknown>, 'control');
    });
    this.commands.set('call', (a) =>
      agent.call(str(a, 'service'), str(a, 'handler'), (a.args ?? {}) as Record<string, unknown>),
    );
    this.commands.set('rules', () => agent.reactor.list());
    this.commands.set('trace', (a) => agent.reactor.traces(str(a, 'rule')));
  }

  async start(): Promise<void> {
    mkdirSync(path.dirname(this.socketPath), { recursive: true });
    rmSync(this.socketPath, { force: true });
    const server = net.createServer((sock) => this.serve(sock));
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
    rmSync(this.socketPath, { force: true });
  }

  private serve(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE && !buf.includes('\n')) {
        sock.end(`${JSON.stringify({ ok: false, error: `request longer than ${MAX_LINE} bytes` })}\n`);
        return;
      }
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim())
          void this.answer(line).then((r) => sock.writable && sock.write(`${JSON.stringify(r)}\n`));
      }
    });
  }

  private async answer(line: string): Promise<ControlResponse> {
    let req: ControlRequestT;
    try {
      req = ControlRequest.parse(JSON.parse(line));
    } catch (e) {
      return { ok: false, error: `bad request: ${errorText(e)}` };
    }
    const handler = this.commands.get(req.cmd);
    if (!handler) return { id: req.id, ok: false, error: `'${req.cmd}' is not available in this agent` };
    try {
      return { id: req.id, ok: true, result: (await handler(req.args)) ?? null };
    } catch (e) {
      return { id: req.id, ok: false, error: errorText(e) };
    }
  }
}
