import net from 'node:net';
import type { ControlRequestT, ControlResponse } from './protocol.js';

/** Sends one request to a running agent's control socket and returns its answer. */
export function request(
  socketPath: string,
  cmd: ControlRequestT['cmd'],
  args: Record<string, unknown> = {},
  timeoutMs = 10_000,
): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ id: 1, cmd, args })}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      resolve(JSON.parse(buf.slice(0, nl)) as ControlResponse);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'is the agent running?' : e.message;
      reject(new Error(`cannot reach the agent at ${socketPath}: ${why}`));
    });
  });
}
