/**
 * The can driver: candump logs decoded against cantools' own decoding of them
 * (fixtures/can/logs/*.expected.txt), replay timing on the fake clock, the virtual bus between two
 * services, events and rules on decoded signals, and SocketCAN when it cannot be had.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../agent/config/load.js';
import { silentLogger } from '../../agent/core/logger.js';
import { parseCandump } from '../../agent/drivers/can/candump.js';
import { MessageCodec } from '../../agent/drivers/can/codec.js';
import { frameKey, parseDbc } from '../../agent/drivers/can/dbc.js';
import { socketcanSource } from '../../agent/drivers/can/sources.js';
import { agentFor, FIXTURES, until } from '../helpers/agent.js';
import { cantoolsDecoded, sameAsCantools } from '../helpers/cantools.js';
import { tmpDir, writeFiles } from '../helpers/tmp.js';

const CAN = path.join(FIXTURES, 'can');
const read = (rel: string) => readFileSync(path.join(CAN, rel), 'latin1');

function decodeLog(dbcRel: string, logRel: string) {
  const codecs = new Map(
    parseDbc(read(dbcRel), dbcRel).messages.map((m) => [frameKey(m.id, m.extended), new MessageCodec(m)]),
  );
  return read(logRel)
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const e = parseCandump(line);
      if (!e || e.frame.error) return 'error';
      const c = codecs.get(frameKey(e.frame.id, e.frame.extended));
      if (!c) return 'unknown';
      if (!c.fits(e.frame.data.length)) return 'size';
      const values = c.decode(e.frame.data);
      // cantools prints value-table entries by name: so do we, for the comparison.
      return Object.fromEntries(
        Object.entries(values).map(([k, v]) => [
          k,
          c.message.signals.find((s) => s.name === k)!.choices?.get(v as number) ?? v,
        ]),
      );
    });
}

describe('candump logs decoded as cantools decodes them', () => {
  for (const [dbc, log] of [
    ['dbc/cantools/socialledge.dbc', 'logs/socialledge.candump-l.log'],
    ['dbc/cantools/msxii_system_can.dbc', 'logs/msxii_system_can.candump.log'],
    ['dbc/cantools/foobar.dbc', 'logs/foobar_canfd.candump.log'],
  ] as const)
    it(log, () => {
      const got = decodeLog(dbc, log);
      const want = cantoolsDecoded(read(log.replace('.log', '.expected.txt')));
      assert.equal(got.length, want.length);
      for (const [i, w] of want.entries()) {
        const g = got[i];
        if (w === undefined) assert.equal(g, 'error');
        else if (typeof w === 'string') assert.equal(g, /^Unknown frame id/.test(w) ? 'unknown' : 'size', w);
        else {
          assert.deepEqual(Object.keys(g as object).sort(), Object.keys(w).sort());
          for (const [k, v] of Object.entries(w))
            assert.ok(
              sameAsCantools((g as Record<string, unknown>)[k], v),
              `line ${i + 1} ${k}: ${(g as Record<string, unknown>)[k]} vs ${v}`,
            );
        }
      }
    });

  it('reads CAN FD lines with flags, remote frames and 29-bit ids', () => {
    const fd = parseCandump(read('logs/candump-l_canfd.log').trim())!;
    assert.deepEqual(
      [fd.frame.id, fd.frame.fd, fd.frame.data.length, fd.frame.data[0]],
      [0x102, true, 48, 0x15],
    );
    assert.equal(fd.ts, 1613656104.493702);
    const rtr = parseCandump('(1.5) can0 123#R')!;
    assert.deepEqual([rtr.frame.remote, rtr.frame.id], [true, 0x123]);
    const ext = parseCandump('(2.0) can0 18DAF110#0241')!;
    assert.deepEqual([ext.frame.extended, ext.frame.id], [true, 0x18daf110]);
    assert.equal(parseCandump('(2.0) can0 123#ABC'), undefined);
  });
});

const SOCIAL = `${CAN}/dbc/cantools/socialledge.dbc`;

describe('can driver', () => {
  it('replays a log on the clock, at its speed, and loops', async () => {
    const { agent, clock } = agentFor(`version: 1
services:
  bus:
    driver: can
    settings: { source: { type: replay, file: ${CAN}/logs/socialledge.candump-l.log, speed: 2, loop: true }, dbc: [${SOCIAL}] }
`);
    after(() => agent.stop());
    await agent.start();
    const status = () => agent.status().services.bus!.driver as Record<string, number>;
    // The log is streamed: the first frame comes as soon as its first lines are read.
    await until(() => (status().frames ?? 0) > 0);
    assert.equal(status().frames, 1); // the first frame at once
    await clock.advance(79); // the second is 158.5 ms later in the log: at speed 2, 79.3 ms
    assert.equal(status().frames, 1);
    await clock.advance(1);
    assert.equal(status().frames, 3); // and the ERROR line, 1.1 ms after it in the log
    await clock.advance(280); // 1F4 at 194.4 ms; 1F3, the last, at 360.2 ms
    assert.equal(status().frames, 4);
    await clock.advance(1); // the last frame, and the log starts over at once
    assert.deepEqual([status().frames, status().laps], [6, 1]);
    // 0C8 and 1F4 decoded on the first lap, 0C8 again on the second.
    assert.deepEqual(
      [status().decoded, status().wrong_size, status().unknown_ids, status().error_frames],
      [3, 1, 1, 1],
    );
    assert.deepEqual(agent.signals.tree.bus!.IO_DEBUG, {
      IO_DEBUG_test_unsigned: 1,
      IO_DEBUG_test_enum: 2,
      IO_DEBUG_test_signed: 3,
      IO_DEBUG_test_float: 2,
    });
  });

  it('a replayed log drives rules on its decoded signals', async () => {
    const { agent, clock, events } = agentFor(`version: 1
services:
  bms:
    driver: can
    settings:
      source: { type: replay, file: ${CAN}/logs/msxii_system_can.candump.log }
      dbc: [${CAN}/dbc/cantools/msxii_system_can.dbc]
      emit: [{ message: BATTERY_VT }]
reactor:
  rules:
    - name: hot_module
      on: vehicle/can/BATTERY_VT
      when: { ">=": [{ var: event.data.MODULE_TEMP_04 }, 11] }
      do: [{ emit: { tag: alert/hot_module, data: { volts: "{{ event.data.MODULE_VOLTAGE_04 }}" } } }]
`);
    after(() => agent.stop());
    await agent.start();
    await until(() => ((agent.status().services.bms?.driver as { frames?: number })?.frames ?? 0) > 0);
    await clock.advance(10);
    assert.equal(events.filter((e) => e.tag === 'vehicle/can/BATTERY_VT').length, 36);
    // MODULE_TEMP_04 is only in the frame with index 4, where cantools reads 11 °C and 39115 for MODULE_VOLTAGE_04.
    assert.deepEqual(
      events.filter((e) => e.tag === 'alert/hot_module').map((e) => e.data),
      [{ volts: 39115 }],
    );
  });

  it('two services on a virtual bus: send from one, decoded signals, throttled events and a rule on the other', async () => {
    const { agent, clock, events } = agentFor(`version: 1
services:
  ecu:
    driver: can
    settings: { source: { type: virtual, bus: test-bus-1 }, dbc: [${SOCIAL}] }
  gateway:
    driver: can
    settings:
      source: { type: virtual, bus: test-bus-1 }
      dbc: [${SOCIAL}]
      emit: [{ message: MOTOR_STATUS, min_interval: 1s }]
    workers:
      - name: sample
        interval: 1s
        messages:
          - { handler: signals, args: { names: [MOTOR_STATUS.MOTOR_STATUS_speed_kph, IO_DEBUG.IO_DEBUG_test_signed] }, returner: signals }
reactor:
  rules:
    - name: too_fast
      on: vehicle/can/MOTOR_STATUS
      when: { ">": [{ var: signals.gateway.MOTOR_STATUS.MOTOR_STATUS_speed_kph }, 50] }
      do: [{ emit: { tag: alert/too_fast, data: { kph: "{{ event.data.MOTOR_STATUS_speed_kph }}" } } }]
`);
    after(() => agent.stop());
    await agent.start();
    const send = (kph: number) =>
      agent.call('ecu', 'send', {
        message: 'MOTOR_STATUS',
        signals: { MOTOR_STATUS_wheel_error: 0, MOTOR_STATUS_speed_kph: kph },
      });
    const sent = (await send(42.5)) as { value: string };
    assert.equal(sent.value, '0004A6'); // 42500 = 0xA604, little endian from byte 1
    const tags = () =>
      events
        .filter((e) => e.tag.startsWith('vehicle/can/') || e.tag.startsWith('alert/'))
        .map((e) => `${e.tag} ${JSON.stringify(e.data)}`);
    assert.deepEqual(tags(), [
      'vehicle/can/MOTOR_STATUS {"MOTOR_STATUS_wheel_error":0,"MOTOR_STATUS_speed_kph":42.5}',
    ]);
    await send(60);
    await send(65);
    assert.equal(tags().length, 1); // within min_interval: held back
    await clock.advance(1000);
    assert.deepEqual(tags().slice(1), [
      'vehicle/can/MOTOR_STATUS {"MOTOR_STATUS_wheel_error":0,"MOTOR_STATUS_speed_kph":65}',
      'alert/too_fast {"kph":65}',
    ]);
    assert.equal(agent.signals.get('gateway', 'motor_status_motor_status_speed_kph')?.value, 65);
    assert.equal(agent.signals.tree.ecu, undefined); // a sender does not hear itself
    await assert.rejects(agent.call('ecu', 'send', { message: 'NOPE', signals: {} }), /no message "NOPE"/);
    await assert.rejects(
      agent.call('ecu', 'send', { message: 'MOTOR_STATUS', signals: { MOTOR_STATUS_speed_kph: 1e6 } }),
      /does not fit its 16 bits/,
    );
  });

  it('validation names a broken DBC line and an emit of a message no DBC has', async () => {
    const dir = tmpDir();
    writeFiles(dir, {
      'bad.dbc': 'VERSION ""\nBO_ 100 M: 8 X\n SG_ A : 0|8@7+ (1,0) [0|0] "" X\n',
      'pitcrew.yaml': `version: 1
services:
  a: { driver: can, settings: { source: { type: virtual, bus: x }, dbc: [bad.dbc] } }
  b: { driver: can, settings: { source: { type: virtual, bus: x }, dbc: [${SOCIAL}], emit: [{ message: NOPE }] } }
`,
    });
    const r = await loadConfig(path.join(dir, 'pitcrew.yaml')).then(
      () => 'loaded',
      (e: Error) => e.message,
    );
    assert.match(r, /services\.a\.settings\.dbc\[0\].*bad\.dbc:3: cannot read the signal/);
    assert.match(r, /services\.b\.settings\.emit\[0\]\.message.*no message NOPE/);
  });

  it('SocketCAN: an interface that is not there fails the service, plainly; a missing addon is said in status', async () => {
    const { agent } = agentFor(`version: 1
services:
  can0: { driver: can, settings: { source: { type: socketcan, interface: pitcrewnone0 } } }
`);
    after(() => agent.stop());
    await agent.start();
    const s = agent.status().services.can0!;
    assert.equal(s.state, 'restarting');
    assert.match(s.lastError!, /cannot open CAN interface pitcrewnone0/);
    const src = socketcanSource('can0', false, silentLogger, () => 'socketcan is not installed');
    await src.start(() => {});
    assert.deepEqual(src.status(), {
      source: 'socketcan',
      interface: 'can0',
      state: 'unavailable',
      error: 'SocketCAN is unavailable on this system: socketcan is not installed',
    });
    assert.throws(
      () =>
        src.send({ id: 1, extended: false, data: new Uint8Array(1), fd: false, remote: false, error: false }),
      /SocketCAN is unavailable/,
    );
  });
});

describe('can replay: bad and big logs', () => {
  it('a line with an absurd time is skipped and counted, not waited for', async () => {
    const dir = tmpDir();
    writeFiles(dir, {
      'bad.log': '(1000.0) vcan0 123#01\n(99999999999999999999999.0) vcan0 123#02\n(1000.5) vcan0 123#03\n',
    });
    const { agent, clock } = agentFor(`version: 1
services:
  bus: { driver: can, settings: { source: { type: replay, file: ${dir}/bad.log } } }
`);
    after(() => agent.stop());
    await agent.start();
    const status = () => agent.status().services.bus!.driver as Record<string, number | string>;
    await until(() => Number(status().frames) > 0);
    await clock.advance(500);
    assert.deepEqual([status().frames, status().skipped_lines, status().state], [2, 1, 'finished']);
  });

  it('a 50 MB log is streamed: memory does not grow with it', async () => {
    const dir = tmpDir();
    const line = (i: number) => `(${(1_600_000_000 + i / 1000).toFixed(6)}) vcan0 1F4#0102030405060708\n`;
    const chunk = Array.from({ length: 10_000 }, (_, i) => line(i)).join('');
    const file = path.join(dir, 'big.log');
    writeFileSync(file, '');
    for (let n = 0; n * chunk.length < 50 * 1024 * 1024; n++) appendFileSync(file, chunk);
    global.gc?.();
    const before = process.memoryUsage().rss;
    const { agent, clock } = agentFor(`version: 1
services:
  bus: { driver: can, settings: { source: { type: replay, file: ${file} } } }
`);
    after(() => agent.stop());
    await agent.start();
    const status = () => agent.status().services.bus!.driver as Record<string, number>;
    await until(() => (status().frames ?? 0) > 0);
    for (let i = 0; i < 20; i++) await clock.advance(100);
    await until(() => (status().frames ?? 0) > 2000);
    const grew = process.memoryUsage().rss - before;
    assert.ok(grew < 80 * 1024 * 1024, `rss grew ${Math.round(grew / 1024 / 1024)} MB`);
  });
});
