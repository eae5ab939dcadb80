/** The ELM327 answer parser on the exchanges of fixtures/obd/ELM327-RESPONSES.md, byte for byte. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dtcCode, dtcCodes } from '../../agent/drivers/obd/dtc.js';
import { type FrameFormat, parseFrames, replyLines } from '../../agent/drivers/obd/elm-reply.js';
import { compileFormula } from '../../agent/drivers/obd/formula.js';
import { findPid, supportedIn } from '../../agent/drivers/obd/pids.js';

const H1: FrameFormat = { headers: true, protocol: 6 };
const H0: FrameFormat = { headers: false, protocol: 6 };
const parse = (raw: string, command: string, f: FrameFormat) =>
  parseFrames(replyLines(raw, command), f, command);
const ascii = (b: number[]) => String.fromCharCode(...b);

describe('ELM327 answers', () => {
  it('two ECUs with headers, spaces on and off', () => {
    const want = [
      { ecu: '7E8', data: [0x41, 0x0c, 0x0a, 0x00] },
      { ecu: '7EA', data: [0x41, 0x0c, 0x0a, 0x00] },
    ];
    assert.deepEqual(parse('7E8 04 41 0C 0A 00 \r7EA 04 41 0C 0A 00 \r\r', '010C', H1), want);
    assert.deepEqual(parse('7E804410C0A50\r7EA04410C0A50\r\r', '010C', H1), [
      { ecu: '7E8', data: [0x41, 0x0c, 0x0a, 0x50] },
      { ecu: '7EA', data: [0x41, 0x0c, 0x0a, 0x50] },
    ]);
  });

  it('headers off: one message a line, numbered ECUs', () => {
    assert.deepEqual(parse('41 0C 09 B0 \r41 0C 09 B0 \r\r', '010C', H0), [
      { ecu: '#1', data: [0x41, 0x0c, 0x09, 0xb0] },
      { ecu: '#2', data: [0x41, 0x0c, 0x09, 0xb0] },
    ]);
  });

  it('drops SEARCHING..., the echo, NUL bytes and line feeds', () => {
    assert.deepEqual(parse('0100\r\x00SEARCHING...\r\n7E8 06 41 00 BE 3F A8 13 \r\n\r\n', '0100', H1), [
      { ecu: '7E8', data: [0x41, 0x00, 0xbe, 0x3f, 0xa8, 0x13] },
    ]);
  });

  it('the VIN in all four multi-frame forms', () => {
    const vins = [
      [
        parse(
          '7E8 10 14 49 02 01 4D 41 54 \r7E8 21 34 30 33 30 39 36 42 \r7E8 22 4E 4C 30 30 30 30 30 \r\r',
          '0902',
          H1,
        ),
        'MAT403096BNL00000',
      ],
      [
        parse('7E81014490201575030\r7E8215A5A5A39395A54\r7E82253333930303030\r\r', '0902', H1),
        'WP0ZZZ99ZTS390000',
      ],
      [
        parse(
          '014\r0: 49 02 01 57 50 30 \r1: 5A 5A 5A 39 39 5A 54 \r2: 53 33 39 30 30 30 30 \r\r',
          '0902',
          H0,
        ),
        'WP0ZZZ99ZTS390000',
      ],
      [
        parse('014\r0: 4902014D4154\r1: 34303330393642\r2: 4E4C3030303030\r\r', '0902', H0),
        'MAT403096BNL00000',
      ],
    ] as const;
    for (const [msgs, vin] of vins) {
      assert.equal(msgs.length, 1);
      assert.equal(msgs[0]!.data.length, 0x14);
      assert.equal(ascii(msgs[0]!.data.slice(3)), vin);
    }
  });

  it('CAN 29-bit ids, and the older protocols with their 3-byte header and checksum', () => {
    assert.deepEqual(parse('18DAF110 03 41 0D 32 \r\r', '010D', { headers: true, protocol: 7 }), [
      { ecu: '18DAF110', data: [0x41, 0x0d, 0x32] },
    ]);
    assert.deepEqual(
      parse('48 6B 10 41 0C 0A 00 F5 \r48 6B 18 41 0C 0A 00 FD \r\r', '010C', { headers: true, protocol: 3 }),
      [
        { ecu: '10', data: [0x41, 0x0c, 0x0a, 0x00] },
        { ecu: '18', data: [0x41, 0x0c, 0x0a, 0x00] },
      ],
    );
  });

  it('every status line is a typed error that carries the raw text', () => {
    const cases: [string, string][] = [
      ['NO DATA\r\r', 'NO DATA'],
      ['?\r\r', '?'],
      ['SEARCHING...\rUNABLE TO CONNECT\r\r', 'UNABLE TO CONNECT'],
      ['BUS INIT:ERROR\r\r', 'BUS INIT ERROR'],
      ['7E8 04 41 0C\rBUFFER FULL\r\r', 'BUFFER FULL'],
      ['CAN ERROR\r\r', 'CAN ERROR'],
      ['STOPPED\r\r', 'STOPPED'],
      ['ERR94\r\r', 'ERR'],
      ['LV RESET\r\r', 'LV RESET'],
    ];
    for (const [raw, status] of cases)
      assert.throws(
        () => parse(raw, '010C', H1),
        (e: Error & { code: string }) => {
          assert.equal(e.code, 'PITCREW_OBD_REPLY');
          assert.ok(e.message.includes(`answered ${status}`), e.message);
          assert.ok(e.message.includes(JSON.stringify(raw)), e.message);
          return true;
        },
      );
  });

  it('line noise: skipped beside real frames, an error when nothing else came', () => {
    assert.deepEqual(parse('\xff\xfe#!\r7E8 03 41 0D 04 \r\r', '010D', H1), [
      { ecu: '7E8', data: [0x41, 0x0d, 0x04] },
    ]);
    assert.throws(() => parse('\xff\xfe#!\r\x13\r\r', '010D', H1), /GARBAGE/);
    assert.throws(() => parse('7E8 10 14 49 02 01 4D 41 54 \r\r', '0902', H1), /INCOMPLETE/);
  });
});

describe('trouble codes', () => {
  it('decodes the letter and digits of two bytes (J2012)', () => {
    assert.equal(dtcCode(0x01, 0x33), 'P0133');
    assert.equal(dtcCode(0xc1, 0x23), 'U0123');
    assert.equal(dtcCode(0x41, 0x00), 'C0100');
    assert.equal(dtcCode(0x92, 0x34), 'B1234');
    assert.equal(dtcCode(0x01, 0x2c), 'P012C');
  });

  it('reads CAN answers by their count and older answers by their padded slots', () => {
    assert.deepEqual(dtcCodes([{ data: [0x43, 0x01, 0x01, 0x2c] }], 0x43, true), ['P012C']);
    const mazda = parse('00A\r0: 43 04 01 02 01 13\r1: 01 23 02 22 00 00 00\r\r', '03', H0);
    assert.deepEqual(dtcCodes(mazda, 0x43, true), ['P0102', 'P0113', 'P0123', 'P0222']);
    assert.deepEqual(dtcCodes([{ data: [0x43, 0x01, 0x33, 0x00, 0x00, 0x00, 0x00] }], 0x43, false), [
      'P0133',
    ]);
    assert.deepEqual(dtcCodes([{ data: [0x43, 0x00] }], 0x43, true), []);
  });
});

describe('PIDs', () => {
  it('decodes the supported-PID bitmap of 0100', () => {
    // BE 1F A8 13: 1011 1110 0001 1111 1010 1000 0001 0011
    assert.deepEqual(supportedIn(0, [0xbe, 0x1f, 0xa8, 0x13]), [
      '01',
      '03',
      '04',
      '05',
      '06',
      '07',
      '0C',
      '0D',
      '0E',
      '0F',
      '10',
      '11',
      '13',
      '15',
      '1C',
      '1F',
      '20',
    ]);
  });

  it('computes declared formulas without eval, and rejects bad ones with the column', () => {
    assert.equal(compileFormula('(A*256+B)/4', 2)([0x0a, 0x00]), 640);
    assert.equal(compileFormula('A - 40', 1)([0x7b]), 83);
    assert.equal(compileFormula('-A*2+100/B', 2)([3, 4]), 19);
    assert.throws(() => compileFormula('A*C', 2), /byte C is past the PID's 2 bytes at column 3/);
    assert.throws(() => compileFormula('process.exit()', 1), /column 1/);
    assert.throws(() => compileFormula('(A+1', 1), /'\)' expected/);
  });

  it('finds PIDs by name, alias, code and description', () => {
    assert.equal(findPid('rpm')?.pid, 0x0c);
    assert.equal(findPid('AMBIANT_AIR_TEMP')?.name, 'AMBIENT_AIR_TEMP');
    assert.equal(findPid({ pid: '0D' })?.name, 'SPEED');
    const d = findPid({ mode: '01', pid: 0x5e, bytes: 2, formula: '(256*A+B)/20', unit: 'L/h' });
    assert.deepEqual([d?.name, d?.decode([0x01, 0x90]), d?.unit], ['PID_015E', 20, 'L/h']);
    assert.equal(findPid({ pid: 0x0c, bytes: 9, formula: 'A' }), undefined);
  });
});
