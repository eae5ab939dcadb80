import { errors } from '../errors.js';

/** A signal as its DBC declares it. */
export interface DbcSignal {
  name: string;
  /** DBC start bit: the least significant bit (little endian) or the most significant (big endian). */
  start: number;
  length: number;
  littleEndian: boolean;
  signed: boolean;
  /** `SIG_VALTYPE_`: 1 IEEE float32, 2 float64. */
  valueType: 'int' | 'float32' | 'float64';
  scale: number;
  offset: number;
  min: number;
  max: number;
  unit: string;
  /** A multiplexor (`M`, or `mNM` in extended multiplexing). */
  multiplexor: boolean;
  /** Present only while `switch` has a raw value in one of `ranges` (`mN`, or `SG_MUL_VAL_`). */
  mux?: { switch: string; ranges: [number, number][] };
  /** `VAL_`: raw value → text. */
  choices?: Map<number, string>;
  comment?: string;
}

export interface DbcMessage {
  /** The id on the bus (29 bits when extended). */
  id: number;
  extended: boolean;
  name: string;
  /** Payload bytes (up to 64 for CAN FD). */
  length: number;
  fd: boolean;
  sender: string;
  signals: DbcSignal[];
  comment?: string;
}

export interface Dbc {
  file: string;
  messages: DbcMessage[];
}

/** A DBC's key for a frame: extended ids are kept apart from standard ones. */
export const frameKey = (id: number, extended: boolean) => (extended ? id + 0x1_0000_0000 : id);

const NUM = '[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?';
const BO = /^BO_\s+(\d+)\s+(\w+)\s*:\s*(\d+)\s*(\w*)/;
const SG = new RegExp(
  `^SG_\\s+(\\w+)\\s*(M|m\\d+M?)?\\s*:\\s*(\\d+)\\|(\\d+)@([01])([+-])\\s*\\(\\s*(${NUM})\\s*,\\s*(${NUM})\\s*\\)\\s*\\[\\s*(${NUM})\\s*\\|\\s*(${NUM})\\s*\\]\\s*"([^"]*)"`,
);
const VAL = /^VAL_\s+(\d+)\s+(\w+)\s+([\s\S]*);$/;
const VALTYPE = /^SIG_VALTYPE_\s+(\d+)\s+(\w+)\s*:?\s*([012])\s*;$/;
const MULVAL = /^SG_MUL_VAL_\s+(\d+)\s+(\w+)\s+(\w+)\s+([\d\s,-]+);$/;
const CM_BO = /^CM_\s+BO_\s+(\d+)\s+"([\s\S]*)"\s*;$/;
const CM_SG = /^CM_\s+SG_\s+(\d+)\s+(\w+)\s+"([\s\S]*)"\s*;$/;
const BA_BO = /^BA_\s+"(\w+)"\s+BO_\s+(\d+)\s+(\d+)\s*;$/;
const BA_BUS = /^BA_\s+"BusType"\s+"([^"]*)"\s*;$/;
/** The pseudo-message DBC editors keep unattached signals in. */
const INDEPENDENT = 0xc0000000;

/** Statements of a DBC with the line each starts on; a quoted string may run over several lines. */
function* statements(text: string): Generator<[string, number]> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    let s = raw.trim();
    const line = i + 1;
    if (!s || s.startsWith('//')) continue;
    // Indented lines are signals, or the keyword list of NS_, which says nothing.
    if (/^\s/.test(raw) && !/^SG_\s/.test(s)) continue;
    while ((s.split('"').length - 1) % 2 === 1 && i + 1 < lines.length) s += `\n${lines[++i]}`;
    yield [s, line];
  }
}

/**
 * Reads a DBC: messages and signals (both byte orders, signed, float and double, scale and offset,
 * limits, units), value tables, multiplexing (`M`, `mN`, and extended `SG_MUL_VAL_`), 29-bit ids,
 * CAN FD frames (`VFrameFormat`, `BusType`), comments. Other sections are skipped. An error names
 * the file and line.
 */
export function parseDbc(text: string, file: string): Dbc {
  const messages: DbcMessage[] = [];
  const byDbcId = new Map<number, DbcMessage>();
  let current: DbcMessage | undefined;
  let busFd = false;
  /** VFrameFormat per message: FD (14, 15) or classic (0, 1). */
  const format = new Map<number, boolean>();
  const fail = (line: number, why: string) => {
    throw errors.CONFIG_INVALID(`${file}:${line}: ${why}`);
  };
  const find = (dbcId: string, name: string) =>
    byDbcId.get(Number(dbcId))?.signals.find((x) => x.name === name);
  /** The signal a statement that changes decoding is about: it must exist. */
  const signalOf = (line: number, dbcId: string, name: string) => {
    const s = find(dbcId, name);
    if (!s) fail(line, `no signal ${name} in message ${dbcId}`);
    return s!;
  };
  for (const [s, line] of statements(text)) {
    const keyword = s.slice(0, s.search(/[\s:]|$/));
    if (keyword === 'BO_') {
      const m = BO.exec(s);
      if (!m) fail(line, `cannot read the message: ${s}`);
      const dbcId = Number(m![1]);
      current = undefined;
      if (dbcId === INDEPENDENT) continue;
      const extended = dbcId >= 0x80000000;
      current = {
        id: extended ? dbcId - 0x80000000 : dbcId,
        extended,
        name: m![2]!,
        length: Number(m![3]),
        fd: false,
        sender: m![4] ?? '',
        signals: [],
      };
      if (current.length > 64)
        fail(line, `message ${current.name} has ${current.length} bytes; CAN FD allows 64`);
      messages.push(current);
      byDbcId.set(dbcId, current);
    } else if (keyword === 'SG_') {
      const m = SG.exec(s);
      if (!m) fail(line, `cannot read the signal: ${s}`);
      if (!current) continue; // a signal of the pseudo-message
      const [, name, mux, start, length, order, sign, scale, offset, min, max, unit] = m!;
      // A decoded frame is an object keyed by signal name, where this name is the prototype's.
      if (name === '__proto__') fail(line, 'a signal named __proto__ cannot be decoded: rename it');
      const sig: DbcSignal = {
        name: name!,
        start: Number(start),
        length: Number(length),
        littleEndian: order === '1',
        signed: sign === '-',
        valueType: 'int',
        scale: Number(scale),
        offset: Number(offset),
        min: Number(min),
        max: Number(max),
        unit: unit!,
        multiplexor: mux === 'M' || (mux?.endsWith('M') ?? false),
      };
      if (sig.length < 1 || sig.length > 64) fail(line, `signal ${sig.name} is ${sig.length} bits; 1 to 64`);
      if (mux?.startsWith('m')) {
        const v = Number.parseInt(mux.slice(1), 10);
        sig.mux = { switch: '', ranges: [[v, v]] }; // its switch: the message's multiplexor, found below
      }
      current.signals.push(sig);
    } else if (keyword === 'VAL_') {
      const m = VAL.exec(s);
      // Value tables and comments only describe: one for an unknown signal (real files have them) is skipped.
      const sig = m && find(m[1]!, m[2]!);
      if (!sig) continue;
      sig.choices = new Map();
      for (const c of m![3]!.matchAll(/(-?\d+)\s+"([^"]*)"/g)) sig.choices.set(Number(c[1]), c[2]!);
    } else if (keyword === 'SIG_VALTYPE_') {
      const m = VALTYPE.exec(s);
      if (!m) fail(line, `cannot read the value type: ${s}`);
      const sig = signalOf(line, m![1]!, m![2]!);
      const t = m![3];
      sig.valueType = t === '1' ? 'float32' : t === '2' ? 'float64' : 'int';
      if (sig.valueType !== 'int' && sig.length !== (t === '1' ? 32 : 64))
        fail(
          line,
          `signal ${sig.name} is ${sig.length} bits, not the ${t === '1' ? 32 : 64} of its float type`,
        );
    } else if (keyword === 'SG_MUL_VAL_') {
      const m = MULVAL.exec(s);
      if (!m) fail(line, `cannot read the extended multiplexing: ${s}`);
      const ranges = m![4]!.split(',').map((r) => r.trim().split('-').map(Number) as [number, number]);
      signalOf(line, m![1]!, m![2]!).mux = { switch: m![3]!, ranges };
    } else if (keyword === 'CM_') {
      const sg = CM_SG.exec(s);
      const commented = sg && find(sg[1]!, sg[2]!);
      if (commented) commented.comment = sg![3];
      const bo = CM_BO.exec(s);
      const msg = bo && byDbcId.get(Number(bo[1]));
      if (msg) msg.comment = bo![2];
    } else if (keyword === 'BA_') {
      const fmt = BA_BO.exec(s);
      // VFrameFormat 14 and 15: StandardCAN_FD, ExtendedCAN_FD.
      if (fmt?.[1] === 'VFrameFormat') format.set(Number(fmt[2]), Number(fmt[3]) >= 14);
      if (BA_BUS.exec(s)?.[1] === 'CAN FD') busFd = true;
    }
  }
  for (const [dbcId, msg] of byDbcId) {
    msg.fd = msg.length > 8 || (format.get(dbcId) ?? busFd);
    const top = msg.signals.find((x) => x.multiplexor && !x.mux);
    for (const sig of msg.signals)
      if (sig.mux && !sig.mux.switch) {
        if (!top)
          throw errors.CONFIG_INVALID(
            `${file}: signal ${sig.name} of ${msg.name} is multiplexed, and the message has no multiplexor`,
          );
        sig.mux.switch = top.name;
      }
    for (const sig of msg.signals)
      if (sig.mux && !msg.signals.some((x) => x.name === sig.mux!.switch))
        throw errors.CONFIG_INVALID(
          `${file}: signal ${sig.name} of ${msg.name} is switched by ${sig.mux.switch}, which it does not have`,
        );
  }
  return { file, messages };
}
