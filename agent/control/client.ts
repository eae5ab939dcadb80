import net from 'node:net';
import { errors, errorText } from '../errors.js';
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
      reject(errors.CONTROL_TIMEOUT(socketPath, timeoutMs));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ id: 1, cmd, args })}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      try {
        const res = JSON.parse(buf.slice(0, nl)) as ControlResponse;
        if (typeof res !== 'object' || res === null || typeof res.ok !== 'boolean')
          throw new Error('no ok field');
        resolve(res);
      } catch (e) {
        reject(
          errors.CONTROL_UNREACHABLE(socketPath, `the answer is not a control response (${errorText(e)})`),
        );
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'is the agent running?' : e.message;
      reject(errors.CONTROL_UNREACHABLE(socketPath, why));
    });
  });
}
