import { lstatSync, rmSync } from 'node:fs';
import net from 'node:net';
import { errors } from './errors.js';

/**
 * Makes a unix socket path free to listen on: what is there is removed only when it is a socket
 * no one answers on (a stale one of an agent that died). A live socket (another agent) or anything
 * that is not a socket is left alone and refused with PITCREW_SOCKET_PATH.
 */
export async function clearStaleSocket(socketPath: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(socketPath).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw errors.SOCKET_PATH(socketPath, 'it is not a socket; it is left alone');
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.createConnection(socketPath);
    probe.on('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
  if (live) throw errors.SOCKET_PATH(socketPath, 'another agent is listening on it');
  rmSync(socketPath, { force: true });
}
