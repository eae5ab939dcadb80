import { errors } from '../errors.js';
import type { DbcMessage, DbcSignal } from './dbc.js';

/** A decoded value: a number, or a decimal string for an integer past 2^53 (a 64-bit counter). */
export type SignalValue = number | string;

/** A run of a signal's bits inside one byte: `width` bits from `shift`, landing at bit `at` of the raw value. */
interface Segment {
  byte: number;
  shift: number;
  width: number;
  at: number;
}

/** Where a signal's bits are, least significant first, as absolute bit positions (byte·8 + bit, bit 0 the LSB). */
export function signalBits(sig: DbcSignal): number[] {
  const bits: number[] = [];
  if (sig.littleEndian) for (let i = 0; i < sig.length; i++) bits.push(sig.start + i);
  else {
    // Motorola: `start` is the most significant bit; the next one down wraps to the next byte's bit 7.
    let pos = sig.start;
    for (let i = 0; i < sig.length; i++) {
      bits.push(pos);
      pos = pos % 8 === 0 ? pos + 15 : pos - 1;
    }
    bits.reverse();
  }
  return bits;
}

function segments(sig: DbcSignal): Segment[] {
  const out: Segment[] = [];
  signalBits(sig).forEach((bit, at) => {
    const last = out.at(-1);
    if (
      last &&
      last.byte === bit >> 3 &&
      last.shift + last.width === (bit & 7) &&
      last.at + last.width === at
    )
      last.width++;
    else out.push({ byte: bit >> 3, shift: bit & 7, width: 1, at });
  });
  return out;
}

const scratch = new DataView(new ArrayBuffer(8));

/** One signal compiled: its bit segments, and how to turn the raw bits into a value and back. */
interface Compiled {
  sig: DbcSignal;
  segs: Segment[];
  /** 2^at of each segment. */
  weights: number[];
  /** Needs BigInt: more than 52 bits. */
  wide: boolean;
}

function compile(sig: DbcSignal): Compiled {
  const segs = segments(sig);
  return {
    sig,
    segs,
    weights: segs.map((s) => 2 ** s.at),
    wide: sig.length > 52,
  };
}

function rawOf(c: Compiled, data: Uint8Array): number | bigint {
  if (c.wide) {
    let v = 0n;
    for (const s of c.segs) v |= BigInt((data[s.byte]! >> s.shift) & ((1 << s.width) - 1)) << BigInt(s.at);
    return v;
  }
  // Multipliers, not shifts: a raw value may pass 31 bits.
  const { segs, weights } = c;
  let v = 0;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    v += ((data[s.byte]! >> s.shift) & ((1 << s.width) - 1)) * weights[i]!;
  }
  return v;
}

function physical(c: Compiled, raw: number | bigint): SignalValue {
  const { sig } = c;
  if (sig.valueType === 'float32') {
    scratch.setUint32(0, Number(raw));
    return scratch.getFloat32(0) * sig.scale + sig.offset;
  }
  if (sig.valueType === 'float64') {
    scratch.setBigUint64(0, BigInt(raw));
    return scratch.getFloat64(0) * sig.scale + sig.offset;
  }
  if (typeof raw === 'bigint') {
    const r = sig.signed && raw >= 1n << BigInt(sig.length - 1) ? raw - (1n << BigInt(sig.length)) : raw;
    if (sig.scale === 1 && sig.offset === 0)
      return r >= -(2n ** 53n) && r <= 2n ** 53n ? Number(r) : r.toString();
    return Number(r) * sig.scale + sig.offset;
  }
  const r = sig.signed && raw >= 2 ** (sig.length - 1) ? raw - 2 ** sig.length : raw;
  return r * sig.scale + sig.offset;
}

/** Raw bits for a physical value: scaled, rounded, in range, two's complement when negative. */
function rawFor(c: Compiled, value: SignalValue): bigint {
  const { sig } = c;
  if (sig.valueType !== 'int') {
    const v = (Number(value) - sig.offset) / sig.scale;
    if (sig.valueType === 'float32') {
      scratch.setFloat32(0, v);
      return BigInt(scratch.getUint32(0));
    }
    scratch.setFloat64(0, v);
    return scratch.getBigUint64(0);
  }
  const raw =
    typeof value === 'string' ? BigInt(value) : BigInt(Math.round((value - sig.offset) / sig.scale));
  const lo = sig.signed ? -(1n << BigInt(sig.length - 1)) : 0n;
  const hi = (sig.signed ? 1n << BigInt(sig.length - 1) : 1n << BigInt(sig.length)) - 1n;
  if (raw < lo || raw > hi)
    throw errors.DRIVER_ERROR(
      `${sig.name}: ${value} does not fit its ${sig.length} bits (raw ${raw}, ${lo}…${hi})`,
    );
  return raw < 0n ? raw + (1n << BigInt(sig.length)) : raw;
}

/**
 * A message compiled for decoding and encoding: each signal's bit runs are worked out once, so a
 * frame costs a few shifts and masks per signal. Multiplexed signals are decoded only when their
 * switch (itself possibly multiplexed) has a raw value in their ranges.
 */
export class MessageCodec {
  private readonly signals: Compiled[];

  constructor(readonly message: DbcMessage) {
    // Switches before what they switch: each signal after its switch chain.
    const depth = (s: DbcSignal, seen = 0): number => {
      if (!s.mux || seen > message.signals.length) return 0;
      const sw = message.signals.find((x) => x.name === s.mux!.switch)!;
      return 1 + depth(sw, seen + 1);
    };
    this.signals = [...message.signals].sort((a, b) => depth(a) - depth(b)).map(compile);
  }

  /** Whether a payload of this size is this message: its length, or longer for CAN FD (padded to a valid FD length). */
  fits(length: number): boolean {
    return length === this.message.length || (this.message.fd && length > this.message.length);
  }

  /** Physical values of the signals the frame carries (check `fits` first). */
  decode(data: Uint8Array): Record<string, SignalValue> {
    const out: Record<string, SignalValue> = {};
    // Switch values, kept only by a multiplexed message.
    let raws: Record<string, number> | undefined;
    for (const c of this.signals) {
      const mux = c.sig.mux;
      if (mux) {
        const sw = raws?.[mux.switch];
        if (sw === undefined || !mux.ranges.some(([a, b]) => sw >= a && sw <= b)) continue;
      }
      const raw = rawOf(c, data);
      if (c.sig.multiplexor) {
        raws ??= {};
        raws[c.sig.name] = Number(raw);
      }
      out[c.sig.name] = physical(c, raw);
    }
    return out;
  }

  /** A frame's payload for `values` (signals left out are 0; a switch picks which multiplexed ones go in). */
  encode(values: Record<string, SignalValue>): Uint8Array {
    const data = new Uint8Array(this.message.length);
    for (const name of Object.keys(values))
      if (!this.signals.some((c) => c.sig.name === name))
        throw errors.DRIVER_ERROR(`${this.message.name} has no signal ${name}`);
    for (const c of this.signals) {
      const v = values[c.sig.name];
      if (v === undefined) continue;
      const raw = rawFor(c, v);
      for (const s of c.segs)
        data[s.byte]! |= Number((raw >> BigInt(s.at)) & BigInt((1 << s.width) - 1)) << s.shift;
    }
    return data;
  }
}
