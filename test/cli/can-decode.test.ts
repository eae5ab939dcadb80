/**
 * `pitcrew can decode` through the installed command, against cantools' own decoding of the same
 * logs (test/fixtures/can): the same frames, the same physical values, the same wrong-size refusals.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseDbc } from '../../agent/drivers/can/dbc.js';
import type { DecodedFrame } from '../../agent/drivers/can/log-decode.js';
import { FIXTURES } from '../helpers/agent.js';
import { cantoolsDecoded, sameAsCantools } from '../helpers/cantools.js';
import { runBin } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const CAN = path.join(FIXTURES, 'can');

describe('pitcrew can decode', () => {
  for (const [dbc, log, code] of [
    ['dbc/cantools/socialledge.dbc', 'logs/socialledge.candump-l.log', 1],
    ['dbc/cantools/msxii_system_can.dbc', 'logs/msxii_system_can.candump.log', 0],
    ['dbc/cantools/foobar.dbc', 'logs/foobar_canfd.candump.log', 0],
  ] as const)
    it(`decodes ${path.basename(log)} as cantools does`, async () => {
      const r = await runBin(['can', 'decode', '--dbc', path.join(CAN, dbc), path.join(CAN, log)]);
      assert.equal(r.code, code, r.stderr);
      const got = r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as DecodedFrame);
      const want = cantoolsDecoded(
        readFileSync(path.join(CAN, log.replace('.log', '.expected.txt')), 'latin1'),
      );
      const frames = want.filter((w): w is Record<string, string> => typeof w === 'object');
      assert.equal(got.length, frames.length);
      const messages = parseDbc(readFileSync(path.join(CAN, dbc), 'latin1'), dbc).messages;
      for (const [i, w] of frames.entries()) {
        const g = got[i]!;
        const sigs = messages.find((m) => m.name === g.message)!.signals;
        assert.deepEqual(Object.keys(g.signals).sort(), Object.keys(w).sort());
        for (const [k, v] of Object.entries(w)) {
          const value = g.signals[k]!;
          const named = sigs.find((s) => s.name === k)!.choices?.get(value as number) ?? value;
          assert.ok(sameAsCantools(named, v), `frame ${i + 1} ${k}: ${value} vs ${v}`);
        }
      }
      const wrongSize = want.filter((w) => typeof w === 'string' && w.startsWith('Wrong data size')).length;
      assert.match(r.stderr, new RegExp(`${frames.length} frames decoded, ${wrongSize} of the wrong size`));
    });

  it('gives each frame its log time and id, and takes the log after several DBCs', async () => {
    const dir = tmpDir();
    const log = path.join(dir, 'mixed.log');
    writeFileSync(
      log,
      [
        '(1594172461.968006) vcan0 0C8#F000000000000000',
        'garbage',
        '(1594172462.356874) vcan0 1F4#01020304',
        '(1594172462.5) vcan0 401#000098980B00',
      ].join('\n'),
    );
    const dbcs = ['socialledge.dbc', 'msxii_system_can.dbc'].map((f) => path.join(CAN, 'dbc/cantools', f));
    const r = await runBin(['can', 'decode', '--dbc', ...dbcs, log]);
    assert.equal(r.code, 0, r.stderr);
    const got = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as DecodedFrame);
    assert.deepEqual(
      got.map((f) => [f.t, f.id, f.message]),
      [
        [1594172461.968006, 0xc8, 'SENSOR_SONARS'],
        [1594172462.356874, 0x1f4, 'IO_DEBUG'],
        [1594172462.5, 0x401, 'BATTERY_VT'],
      ],
    );
    assert.match(r.stderr, /mixed\.log:2: not a candump line/);
    assert.match(
      r.stderr,
      /3 frames decoded, 0 of the wrong size, 0 with ids no DBC knows, 0 error frames, 0 remote, 1 lines not read/,
    );
  });
});
