/**
 * DBC decoding and encoding: cantools' own vectors (fixtures/can/dbc-vectors.json), vectors worked
 * out by hand for the tricky layouts, and round trips over random layouts (fast-check).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MessageCodec, signalBits } from '../../agent/drivers/can/codec.js';
import { type DbcSignal, parseDbc } from '../../agent/drivers/can/dbc.js';
import { FIXTURES } from '../helpers/agent.js';

const CAN = path.join(FIXTURES, 'can');
const dbc = (rel: string) => parseDbc(readFileSync(path.join(CAN, 'dbc', rel), 'latin1'), rel);
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

interface Vector {
  dbc: string;
  message: string;
  dataHex: string;
  signals: Record<string, number | string>;
}
const VECTORS = (
  JSON.parse(readFileSync(path.join(CAN, 'dbc-vectors.json'), 'utf8')) as { vectors: Vector[] }
).vectors;

function codec(file: string, message: string): MessageCodec {
  const m = dbc(file).messages.find((x) => x.name === message);
  assert.ok(m, `${message} in ${file}`);
  return new MessageCodec(m);
}

const close = (a: unknown, b: unknown) =>
  typeof b === 'number' ? Math.abs((a as number) - b) <= 1e-9 * Math.max(1, Math.abs(b)) : a === b;

describe('DBC codec against cantools', () => {
  for (const v of VECTORS)
    it(`${v.dbc} ${v.message} ${v.dataHex.slice(0, 16)}`, () => {
      const c = codec(v.dbc, v.message);
      const got = c.decode(hex(v.dataHex));
      assert.deepEqual(Object.keys(got).sort(), Object.keys(v.signals).sort());
      for (const [k, want] of Object.entries(v.signals))
        assert.ok(close(got[k], want), `${k}: ${got[k]} ≠ ${want}`);
      assert.equal(toHex(c.encode(v.signals)), v.dataHex);
    });
});

describe('DBC codec by hand', () => {
  const sig = (s: Partial<DbcSignal>): DbcSignal => ({
    name: 'S',
    start: 0,
    length: 8,
    littleEndian: true,
    signed: false,
    valueType: 'int',
    scale: 1,
    offset: 0,
    min: 0,
    max: 0,
    unit: '',
    multiplexor: false,
    ...s,
  });
  const one = (s: Partial<DbcSignal>, length = 8) =>
    new MessageCodec({
      id: 1,
      extended: false,
      name: 'M',
      length,
      fd: length > 8,
      sender: '',
      signals: [sig(s)],
    });

  it('big endian across byte boundaries: start 7, 12 bits = byte 0 and the top nibble of byte 1', () => {
    assert.deepEqual(
      signalBits(sig({ start: 7, length: 12, littleEndian: false })),
      [12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7],
    );
    // 0xAB, 0xC0 → raw 0xABC = 2748
    assert.equal(one({ start: 7, length: 12, littleEndian: false }).decode(hex('ABC0000000000000')).S, 2748);
    // start 3, 12 bits: the low nibble of byte 0, all of byte 1 → 0x5 then 0xA7 → 0x5A7
    assert.equal(one({ start: 3, length: 12, littleEndian: false }).decode(hex('F5A7000000000000')).S, 0x5a7);
  });

  it('signed 13-bit little endian from bit 5, scaled', () => {
    // raw -1000 in 13 bits = 0x1C18; placed at bit 5: 0x1C18 << 5 = 0x38300 → bytes 00 83 03
    const c = one({ start: 5, length: 13, signed: true, scale: 0.5, offset: 10 });
    assert.equal(c.decode(hex('0083030000000000')).S, -1000 * 0.5 + 10);
    assert.equal(toHex(c.encode({ S: -490 })), '0083030000000000');
  });

  it('IEEE float32, little and big endian', () => {
    // 1.5f = 0x3FC00000
    assert.equal(one({ start: 0, length: 32, valueType: 'float32' }).decode(hex('0000C03F00000000')).S, 1.5);
    assert.equal(
      one({ start: 7, length: 32, littleEndian: false, valueType: 'float32' }).decode(hex('3FC0000000000000'))
        .S,
      1.5,
    );
  });

  it('a signal in the last bytes of a 64-byte CAN FD frame', () => {
    const data = new Uint8Array(64);
    data[62] = 0x34;
    data[63] = 0x12;
    assert.equal(one({ start: 496, length: 16 }, 64).decode(data).S, 0x1234);
  });

  it('multiplexing: only the signals of the active switch value, nested switches too', () => {
    const c = codec('cantools/multiplex_2.dbc', 'Extended');
    // S0 = 0 (low nibble of byte 0) → S1 (bits 4-7, itself a switch) = 0 → S2, S3; S6 (byte 4) = 1 → S7
    const got = c.decode(hex('00AB3412017856F0'));
    assert.deepEqual(Object.keys(got).sort(), ['S0', 'S1', 'S2', 'S3', 'S6', 'S7']);
    assert.equal(got.S2, -0x55); // 0xAB as signed 8-bit
    assert.equal(got.S3, 0x1234);
    const s5 = c.decode(hex('10000000020000F0')); // byte 0 = 0x10: S0 = 0, S1 = 1, which switches nothing in
    assert.equal(s5.S1, 1);
    assert.ok(!('S2' in s5));
  });

  it('round trips random layouts exactly, within the scale', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 63 }),
        fc.constantFrom(1, 0.5, 0.1, 0.001, 4),
        fc.integer({ min: -100, max: 100 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (length, littleEndian, signed, at, scale, offset, f) => {
          // Place it where it fits in 8 bytes, in the byte order's own numbering.
          const s = sig({ length, littleEndian, signed, scale, offset });
          const msb = (b: number) => (b >> 3) * 8 + 7 - (b & 7); // sawtooth start of a big-endian run
          s.start = littleEndian ? Math.min(at, 64 - length) : msb(Math.min(at, 64 - length));
          const c = one(s);
          const span = 2 ** length;
          const raw = Math.floor(f * (span - 1)) - (signed ? Math.floor(span / 2) : 0);
          const lo = signed ? -(2 ** (length - 1)) : 0;
          const r = Math.max(lo, Math.min(raw, lo + span - 1));
          if (Math.abs(r) > 2 ** 52) return; // exact only within doubles
          const phys = r * scale + offset;
          const back = c.decode(c.encode({ S: phys })).S as number;
          assert.ok(Math.abs(back - phys) <= scale / 2 + 1e-9 * Math.abs(phys), `${phys} → ${back}`);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('DBC files', () => {
  it('reads the opendbc and cantools files: ids, byte orders, mux, FD, comments', () => {
    const mqb = dbc('opendbc/vw_mqb.dbc');
    assert.equal(mqb.messages.length, 113);
    assert.equal(mqb.messages.filter((m) => m.extended).length, 12);
    const airbag = mqb.messages.find((m) => m.name === 'KN_Airbag_01')!;
    assert.deepEqual([airbag.id, airbag.extended], [2549088277 - 0x80000000, true]);
    const prius = dbc('opendbc/toyota_prius_2010_pt.dbc');
    const accel = prius.messages.flatMap((m) => m.signals).find((s) => s.name === 'ACCEL_X')!;
    assert.deepEqual(
      [accel.start, accel.length, accel.littleEndian, accel.signed, accel.scale],
      [6, 15, false, true, 0.001],
    );
    const foobar = dbc('cantools/foobar.dbc');
    const canFd = foobar.messages.find((m) => m.name === 'CanFd')!;
    assert.deepEqual([canFd.length, canFd.fd, canFd.extended], [64, true, true]);
    assert.equal(foobar.messages.find((m) => m.name === 'Foo')!.comment, 'Foo.');
    assert.equal(
      dbc('cantools/motohawk.dbc')
        .messages[0]!.signals.find((s) => s.name === 'Enable')!
        .choices?.get(1),
      'Enabled',
    );
    for (const f of [
      'opendbc/comma_body.dbc',
      'opendbc/fca_giorgio.dbc',
      'cantools/j1939.dbc',
      'cantools/multiplex.dbc',
    ])
      assert.ok(dbc(f).messages.length > 0, f);
  });

  it('names the file and line of what it cannot read', () => {
    assert.throws(
      () => parseDbc('VERSION ""\n\nBO_ 100 M: 8 X\n SG_ Broken : 0|8@9+ (1,0) [0|0] "" X\n', 'bad.dbc'),
      /bad\.dbc:4: cannot read the signal/,
    );
    assert.throws(
      () => parseDbc('BO_ 1 M: 8 X\n SG_ A m1 : 0|8@1+ (1,0) [0|0] "" X\n', 'nomux.dbc'),
      /nomux\.dbc: signal A of M is multiplexed/,
    );
    assert.throws(
      () => parseDbc('BO_ 1 M: 8 X\n SG_ __proto__ : 0|8@1+ (1,0) [0|0] "" X\n', 'proto.dbc'),
      /proto\.dbc:2: a signal named __proto__ cannot be decoded/,
    );
  });
});
