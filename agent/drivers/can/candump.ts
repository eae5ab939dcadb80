import type { CanFrame } from './frame.js';

/** A line of a candump log: a frame and its time (seconds, absent in the plain format), or an error frame. */
export interface LogEntry {
  ts?: number;
  frame: CanFrame;
}

/** Seconds since the epoch past the year 2286 are not a candump time: such a line is bad, not a wait. */
const MAX_TS = 1e10;

const hexBytes = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** `candump -l`: `(1594172461.968006) vcan0 0C8#F000…`, `123#R`, FD `102##1<data>`, and `ERROR`. */
const LOGFILE = /^\((\d+\.\d+)\)\s+\S+\s+(?:([0-9A-Fa-f]{1,8})(#{1,2})([0-9A-Fa-f]*|R\d*)|(ERROR))\s*$/;
/** candump's screen format: `  vcan0  401   [6]  00 00 98 98 0B 00`, FD lengths in 3 digits. */
const SCREEN =
  /^\s*(?:\((\d+\.\d+)\)\s+)?\S+\s+([0-9A-Fa-f]{1,8})\s+\[(\d+)\]\s+((?:[0-9A-Fa-f]{2}\s*)*|remote request)\s*$/;

/**
 * One line of a candump log, in either format; undefined for a blank line, a line that is not a
 * frame, a time past MAX_TS, or a payload that does not match its length. Ids of 8 digits or above
 * 0x7FF are extended.
 */
export function parseCandump(line: string): LogEntry | undefined {
  const l = LOGFILE.exec(line);
  if (l) {
    const ts = Number(l[1]);
    if (!(ts <= MAX_TS)) return undefined;
    if (l[5])
      return {
        ts,
        frame: { id: 0, extended: false, data: new Uint8Array(), fd: false, remote: false, error: true },
      };
    const id = Number.parseInt(l[2]!, 16);
    const extended = l[2]!.length === 8;
    if (extended && id & 0x20000000)
      return {
        ts,
        frame: {
          id: id & 0x1fffffff,
          extended: false,
          data: hexBytes(l[4]!),
          fd: false,
          remote: false,
          error: true,
        },
      };
    const fd = l[3] === '##';
    const payload = fd ? l[4]!.slice(1) : l[4]!; // FD: a flags nibble first
    if (payload[0] === 'R')
      return { ts, frame: { id, extended, data: new Uint8Array(), fd, remote: true, error: false } };
    if (payload.length % 2) return undefined;
    // Checked as hex by the pattern: decoded straight into a buffer of its own.
    return {
      ts,
      frame: { id, extended, data: Buffer.from(payload, 'hex'), fd, remote: false, error: false },
    };
  }
  const s = SCREEN.exec(line);
  if (!s || (s[1] && !(Number(s[1]) <= MAX_TS))) return undefined;
  const id = Number.parseInt(s[2]!, 16);
  const extended = s[2]!.length === 8 || id > 0x7ff;
  const remote = s[4] === 'remote request';
  const data = remote ? new Uint8Array() : hexBytes(s[4]!);
  if (!remote && data.length !== Number(s[3])) return undefined;
  return {
    ...(s[1] ? { ts: Number(s[1]) } : {}),
    frame: { id, extended, data, fd: s[3]!.length === 3 || data.length > 8, remote, error: false },
  };
}
