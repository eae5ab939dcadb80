import net from 'node:net';
import { readLines, TOO_LONG } from '../core/lines.js';
import { errors, errorText, PitcrewError } from './errors.js';
import type { ControlRequestT, ControlResponse } from './protocol.js';
import type { TapLine } from './tap.js';

const unreachable = (socketPath: string, e: NodeJS.ErrnoException) =>
  errors.CONTROL_UNREACHABLE(
    socketPath,
    e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'is the agent running?' : e.message,
  );

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
      reject(unreachable(socketPath, e));
    });
  });
}

/**
 * Streams a running agent's events matching `pattern` (`pitcrew tap`) to `onLine` until `stop` is
 * called or the agent closes the stream; rejects when the agent refuses the tap (a bad pattern).
 */
export async function tapEvents(
  socketPath: string,
  pattern: string | undefined,
  onLine: (line: TapLine) => void,
  stop: AbortSignal,
): Promise<void> {
  const sock = net.createConnection(socketPath);
  sock.setEncoding('utf8');
  stop.addEventListener('abort', () => sock.destroy(), { once: true });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', (e) => reject(unreachable(socketPath, e)));
  });
  sock.on('error', () => sock.destroy());
  sock.write(`${JSON.stringify({ id: 1, cmd: 'tap', args: pattern === undefined ? {} : { pattern } })}\n`);
  for await (const line of readLines(sock as AsyncIterable<string>)) {
    if (line === TOO_LONG) continue;
    const msg = JSON.parse(line) as TapLine | ControlResponse;
    if (!('ok' in msg)) onLine(msg);
    else if (!msg.ok) throw new PitcrewError(msg.code, msg.error);
  }
}
