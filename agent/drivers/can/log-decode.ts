import { parseCandump } from './candump.js';
import type { MessageCodec, SignalValue } from './codec.js';
import { frameKey } from './dbc.js';

/** A decoded frame as `pitcrew can decode` prints it (DESIGN §9): physical values, value tables not applied. */
export interface DecodedFrame {
  /** The log's time, seconds (absent in candump's plain screen format). */
  t?: number;
  id: number;
  message: string;
  signals: Record<string, SignalValue>;
}

/** What a line of a candump log is, against the DBCs. */
export type LogLine =
  | { kind: 'frame'; frame: DecodedFrame }
  /** An id no DBC knows: other ECUs' traffic, counted. */
  | { kind: 'unknown'; id: number }
  /** A known id with a payload of the wrong length: refused, as `cantools decode` does. */
  | { kind: 'wrong_size'; id: number; message: string; length: number; expected: number }
  | { kind: 'error_frame' }
  | { kind: 'remote' }
  /** Not a candump line. */
  | { kind: 'bad' }
  | { kind: 'blank' };

/** Decodes one line of a candump log (either format) with the codecs of the DBCs, by frame key. */
export function decodeLogLine(codecs: ReadonlyMap<number, MessageCodec>, line: string): LogLine {
  const entry = parseCandump(line);
  if (!entry) return /\S/.test(line) ? { kind: 'bad' } : { kind: 'blank' };
  const { frame, ts } = entry;
  if (frame.error) return { kind: 'error_frame' };
  if (frame.remote) return { kind: 'remote' };
  const codec = codecs.get(frameKey(frame.id, frame.extended));
  if (!codec) return { kind: 'unknown', id: frame.id };
  const m = codec.message;
  if (!codec.fits(frame.data.length))
    return {
      kind: 'wrong_size',
      id: frame.id,
      message: m.name,
      length: frame.data.length,
      expected: m.length,
    };
  const signals = codec.decode(frame.data);
  return {
    kind: 'frame',
    frame:
      ts === undefined
        ? { id: frame.id, message: m.name, signals }
        : { t: ts, id: frame.id, message: m.name, signals },
  };
}
