import { createRequire } from 'node:module';
import type { SerialPort } from 'serialport';

/**
 * The native addon loads with the first port opened: a unit with no serial service never pays for
 * it. Required, not imported: the bundled command's cached code cannot import().
 */
let addon: typeof import('serialport') | undefined;

/** Opens a serial port, ready to read as soon as its device answers (see `promptAfterPoll`). */
export function openSerialPort(path: string, baudRate: number): Promise<SerialPort> {
  addon ??= createRequire(import.meta.url)('serialport') as typeof import('serialport');
  const { SerialPort } = addon;
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((e) => {
      if (e) return reject(e);
      promptAfterPoll(port);
      resolve(port);
    });
  });
}

/**
 * @serialport/bindings-cpp 13 reads a port until it would block, then waits for its poller's
 * `readable`, a call into JavaScript from libuv outside any callback scope: the promise that read
 * waits on is settled, but on Node.js 26 nothing runs the microtasks after it, so the read resumes
 * only when something else does (a timer, up to hundreds of ms later) and replies look lost. An
 * immediate after each of the poller's events runs them in the same turn of the event loop.
 */
function promptAfterPoll(port: SerialPort): void {
  const poller = (port.port as unknown as { poller?: { emit(...args: unknown[]): boolean } } | undefined)
    ?.poller;
  if (!poller) return;
  const emit = poller.emit.bind(poller);
  poller.emit = (...args: unknown[]) => {
    const heard = emit(...args);
    setImmediate(noop);
    return heard;
  };
}

const noop = () => {};
