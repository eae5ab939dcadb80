import { errors } from '../errors.js';

/** One ECU's answer: who sent it, and the message from the service byte on (`41 0C 0A 00`). */
export interface EcuMessage {
  /** The CAN id (`7E8`, `18DAF110`), the source address of older protocols (`10`), or `#1`… with headers off. */
  ecu: string;
  data: number[];
}

/** Status lines that end a request (ELM327 datasheet, "Error Messages and Alerts"); the text as printed. */
const STATUS: [RegExp, string][] = [
  [/^NO DATA$/, 'NO DATA'],
  [/^\?$/, '?'],
  [/^CAN ERROR$/, 'CAN ERROR'],
  [/^BUFFER FULL$/, 'BUFFER FULL'],
  [/^UNABLE TO CONNECT$/, 'UNABLE TO CONNECT'],
  [/^STOPPED$/, 'STOPPED'],
  [/^BUS BUSY$/, 'BUS BUSY'],
  [/^BUS ERROR$/, 'BUS ERROR'],
  [/^BUS INIT:?\s*\.*\s*ERROR$/, 'BUS INIT ERROR'],
  [/^<?DATA ERROR$/, 'DATA ERROR'],
  [/^<RX ERROR$/, 'RX ERROR'],
  [/^FB ERROR$/, 'FB ERROR'],
  [/^ERR\d\d$/, 'ERR'],
  [/^LV RESET$/, 'LV RESET'],
  [/^!?(ACT|LP) ALERT$/, 'ALERT'],
  [/^OUT OF MEMORY$/, 'OUT OF MEMORY'],
];

/** Progress lines an answer may start with; they carry nothing. */
const PROGRESS = /^(SEARCHING\.*|BUS INIT:?\s*\.*\s*OK)$/;

const squash = (s: string) => s.replace(/\s+/g, '').toUpperCase();

/**
 * The lines of an adapter's answer to `command` (the text before the `>` prompt): NUL bytes,
 * the echo of the command and progress lines dropped. A status line (NO DATA, BUFFER FULL …)
 * throws PITCREW_OBD_REPLY with the raw text.
 */
export function replyLines(raw: string, command: string): string[] {
  const lines: string[] = [];
  const cmd = squash(command);
  for (const part of raw.split(/[\r\n]+/)) {
    const line = part.replace(/\0/g, '').trim();
    if (!line || PROGRESS.test(line)) continue;
    if (lines.length === 0 && squash(line) === cmd) continue; // echo (ATE1, or stuck on)
    for (const [re, status] of STATUS) if (re.test(line)) throw errors.OBD_REPLY(command, status, raw);
    lines.push(line);
  }
  return lines;
}

const HEX_LINE = /^[0-9A-F ]+$/i;
/** CAN multi-frame with headers off: `0: 49 02 01 …`, after a byte-count line `014`. */
const INDEXED = /^([0-9A-F]):\s*([0-9A-F ]+)$/i;
const COUNT = /^[0-9A-F]{3}$/i;

function bytesOf(hex: string): number[] | undefined {
  const h = hex.replace(/ /g, '');
  if (h.length % 2) return undefined;
  const out = new Array<number>(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** What the session knows about the answer's format. */
export interface FrameFormat {
  /** Headers are on (ATH1). */
  headers: boolean;
  /** The OBD protocol (ATDPN: 1-5 older protocols, 6/8 CAN 11-bit, 7/9 CAN 29-bit), once known. */
  protocol?: number;
}

export const isCan = (protocol: number | undefined) => protocol === undefined || protocol >= 6;

/**
 * The messages in an answer's lines, in any format adapters print: spaces or not, headers or not;
 * CAN 11-bit and 29-bit with ISO-TP single, first and consecutive frames reassembled per ECU;
 * headers-off multi-frame (`014` then `0: …`); older protocols with a 3-byte header and a checksum.
 * Lines that are not hex are skipped (line noise); an answer with no message throws GARBAGE.
 */
export function parseFrames(lines: string[], format: FrameFormat, command: string): EcuMessage[] {
  const out: EcuMessage[] = [];
  const assembling = new Map<string, { data: number[]; length: number }>();
  let anon = 0;
  let counted: { data: number[]; length: number } | undefined;
  const raw = () => lines.join('\r');
  for (const line of lines) {
    const indexed = INDEXED.exec(line);
    if (counted && indexed) {
      counted.data.push(...(bytesOf(indexed[2]!) ?? []));
      continue;
    }
    if (counted) out.push({ ecu: `#${++anon}`, data: counted.data.slice(0, counted.length) });
    counted = undefined;
    if (COUNT.test(line)) {
      counted = { data: [], length: Number.parseInt(line, 16) };
      continue;
    }
    if (!HEX_LINE.test(line)) continue;
    const hex = line.replace(/ /g, '');
    if (!format.headers) {
      const data = bytesOf(hex);
      if (data?.length) out.push({ ecu: `#${++anon}`, data });
      continue;
    }
    if (!isCan(format.protocol)) {
      // Older protocols: priority, target, source, data …, checksum.
      const b = bytesOf(hex);
      if (b && b.length > 4)
        out.push({ ecu: b[2]!.toString(16).toUpperCase().padStart(2, '0'), data: b.slice(3, -1) });
      continue;
    }
    const idLength = hex.length % 2 ? 3 : 8; // 11-bit ids print as 3 digits, 29-bit as 8
    const ecu = hex.slice(0, idLength).toUpperCase();
    const b = bytesOf(hex.slice(idLength));
    if (!b?.length) continue;
    const kind = b[0]! >> 4;
    if (kind === 0) out.push({ ecu, data: b.slice(1, 1 + (b[0]! & 0xf)) });
    else if (kind === 1) assembling.set(ecu, { data: b.slice(2), length: ((b[0]! & 0xf) << 8) | b[1]! });
    else if (kind === 2) assembling.get(ecu)?.data.push(...b.slice(1));
    // kind 3: flow control, the adapter's own business
  }
  if (counted) out.push({ ecu: `#${++anon}`, data: counted.data.slice(0, counted.length) });
  for (const [ecu, m] of assembling) {
    if (m.data.length < m.length) throw errors.OBD_REPLY(command, 'INCOMPLETE', raw());
    out.push({ ecu, data: m.data.slice(0, m.length) });
  }
  if (!out.length) throw errors.OBD_REPLY(command, 'GARBAGE', raw());
  return out;
}
