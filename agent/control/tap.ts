import type net from 'node:net';
import type { Bus, Event } from '../core/bus.js';

/** Bytes of events a tap client may leave unread before new events are dropped (and counted) for it. */
export const TAP_MAX_UNREAD = 256 * 1024;

/** One line of a tap stream: an event, or how many were dropped for a slow reader since the last line. */
export type TapLine = { event: Event } | { dropped: number };

/**
 * Streams the bus events matching `pattern` to a control connection (`pitcrew tap`), one JSON line
 * each, as `vector tap` does: bounded per client, so a reader that stalls costs the agent at most
 * TAP_MAX_UNREAD bytes; what does not fit is dropped and counted, and the count is said once the
 * client reads again. Ends when the connection does. Throws on a bad pattern, before streaming.
 */
export function tap(sock: net.Socket, bus: Bus, pattern: string, maxUnread = TAP_MAX_UNREAD): () => void {
  let dropped = 0;
  const write = (line: TapLine) => sock.write(`${JSON.stringify(line)}\n`);
  const off = bus.on(pattern, (event: Event) => {
    if (!sock.writable) return;
    if (sock.writableLength > maxUnread) {
      dropped++;
      return;
    }
    if (dropped > 0) {
      write({ dropped });
      dropped = 0;
    }
    write({ event });
  });
  const drained = () => {
    if (dropped > 0 && sock.writable) {
      write({ dropped });
      dropped = 0;
    }
  };
  sock.on('drain', drained);
  sock.once('close', off);
  return off;
}
