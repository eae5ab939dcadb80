/**
 * The elm327 driver over a real pty pair (socat) against the ELM327 emulator of
 * test/helpers/elm-emulator.ts: init, every handler, the adapter's faults, a pulled cable.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { elm327, PROBE_RATES } from '../../agent/drivers/obd/elm327.js';
import { startDriver } from '../helpers/driver.js';
import { CAR, type Car, ElmEmulator } from '../helpers/elm-emulator.js';
import { PtyPair } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';

async function rig(
  opts: { car?: Partial<Car>; deafLines?: number; settings?: Record<string, unknown> } = {},
) {
  const pty = await PtyPair.start();
  after(() => pty.unplug());
  const car = { ...structuredClone(CAR), ...opts.car };
  const elm = new ElmEmulator(pty.device, car);
  after(() => elm.close());
  await elm.attach();
  elm.faults.deafLines = opts.deafLines;
  const d = await startDriver(elm327, {
    port: pty.port,
    timeout: '300ms',
    reconnect: { min: '50ms', max: '200ms' },
    ...opts.settings,
  });
  await waitFor(
    () => d.tags().includes('vehicle/obd/connected'),
    'the adapter to connect',
    () => elm.log.join(' '),
  );
  return { ...d, pty, elm };
}

const connected = (events: { tag: string; data: Record<string, unknown> }[]) =>
  events.find((e) => e.tag === 'vehicle/obd/connected')!.data;

describe('elm327 driver over a pty', () => {
  it('finds the baud rate, resets and sets up the adapter, and learns the protocol and ECUs', async () => {
    const { events, elm } = await rig({ deafLines: 2 });
    assert.deepEqual(connected(events), {
      service: 'obd',
      port: events[0]!.data.port,
      baudrate: PROBE_RATES[2],
      adapter: 'ELM327 v1.5',
      firmware: undefined,
      protocol: 6,
      ecus: ['7E8', '7EA'],
    });
    // Silent at the first two rates, named itself at the third.
    const reset = elm.log.indexOf('ATZ');
    assert.deepEqual(elm.log.slice(0, reset), ['ATI', 'ATI', 'ATI']);
    const init = elm.log.slice(reset);
    assert.deepEqual(init.slice(0, 8), ['ATZ', 'ATE0', 'ATL0', 'ATS0', 'ATH1', 'ATAT1', 'ATSP0', 'ATI']);
    assert.ok(init.includes('0100') && init.includes('ATDPN'));
  });

  it('connects to an adapter that ignores DEL and holds half a line; requests made meanwhile wait for the setup', async () => {
    const pty = await PtyPair.start();
    after(() => pty.unplug());
    const elm = new ElmEmulator(pty.device, structuredClone(CAR));
    after(() => elm.close());
    await elm.attach();
    elm.strict = true; // as ELM327-emulator 3.0.5
    elm.faults.leftover = '0';
    const d = await startDriver(
      elm327,
      { port: pty.port, timeout: '2s', reconnect: { min: '50ms', max: '200ms' } },
      { awaitStart: false },
    );
    // Asked while the driver probes: written only once the adapter is set up.
    const rpm = await d.call('query', { pid: 'RPM' });
    await d.started;
    assert.equal(rpm.value, 640);
    assert.equal(connected(d.events).baudrate, PROBE_RATES[0]);
    // The half line makes the first ATI `0ATI` (answered `?`); the second names the adapter.
    assert.deepEqual(elm.log.slice(0, 3), ['0ATI', 'ATI', 'ATZ']);
    assert.ok(elm.log.indexOf('010C') > elm.log.indexOf('ATI', 2), elm.log.join(' '));
  });

  it('decodes mode 01 PIDs with their units, per ECU when several answer', async () => {
    const { call } = await rig();
    const rpm = await call('query', { pid: 'RPM' });
    assert.equal(rpm.type, 'rpm');
    assert.equal(rpm.value, 640); // 0x0A00 / 4
    assert.equal(rpm.unit, 'rpm');
    assert.deepEqual(rpm.ecus, { '7E8': 640, '7EA': 640 });
    assert.deepEqual(
      [await call('query', { pid: 'SPEED' }), await call('query', { pid: 'COOLANT_TEMP' })].map((r) => [
        r.value,
        r.unit,
        r.ecus,
      ]),
      [
        [4, 'km/h', undefined],
        [83, '°C', { '7E8': 83, '7EA': 83 }],
      ],
    );
    assert.equal((await call('query', { pid: 'CONTROL_MODULE_VOLTAGE' })).value, 12.589); // 0x312D / 1000
    assert.equal((await call('query', { pid: 'AMBIANT_AIR_TEMP' })).value, 20);
    assert.equal(Math.round((await call('query', { pid: 'FUEL_LEVEL' })).value as number), 75); // 0xBF·100/255
    const custom = await call('query', {
      pid: { mode: 1, pid: '0C', bytes: 2, formula: '(A*256+B)/4', name: 'revs', unit: 'rpm' },
    });
    assert.deepEqual([custom.type, custom.value, custom.unit], ['revs', 640, 'rpm']);
    const bitmap = await call('query', { pid: 'PIDS_A' });
    assert.deepEqual(bitmap.value, ['04', '05', '0C', '0D', '11', '20']);
  });

  it('fails fast on a PID the car does not support, without asking the adapter', async () => {
    const { call, elm } = await rig();
    const asked = elm.log.length;
    await assert.rejects(call('query', { pid: 'MAF' }), {
      code: 'PITCREW_OBD_UNSUPPORTED',
      message: /MAF is not supported/,
    });
    await assert.rejects(call('query', { pid: 'NOPE' }), { code: 'PITCREW_DRIVER_ERROR' });
    assert.equal(elm.log.length, asked);
  });

  it('reads and clears trouble codes, reads the VIN over ISO-TP, the voltage, and raw commands', async () => {
    const { call } = await rig({ car: { stn: true } });
    assert.deepEqual((await call('dtc')).value, ['P0133', 'U0123', 'C0300']);
    assert.deepEqual((await call('dtc', { mode: 'pending' })).value, ['P0420']);
    assert.deepEqual((await call('dtc', { mode: 'permanent' })).value, ['B1234', 'P0133']);
    await assert.rejects(call('dtc', { mode: 'sometimes' }), { code: 'PITCREW_DRIVER_ERROR' });
    assert.equal((await call('clear_dtc')).value, true);
    assert.deepEqual((await call('dtc')).value, []);
    assert.equal((await call('vin')).value, 'MAT403096BNL00000');
    assert.deepEqual([(await call('voltage')).value, (await call('voltage')).unit], [13.1, 'V']);
    assert.equal((await call('raw', { command: 'ATI' })).value, 'ELM327 v1.5');
    await assert.rejects(call('raw', { command: 'ATXYZ' }), {
      code: 'PITCREW_OBD_REPLY',
      message: /answered \?/,
    });
    await assert.rejects(call('raw', { command: 'AT\rZ' }), { code: 'PITCREW_DRIVER_ERROR' });
  });

  it('names an STN chip by its firmware', async () => {
    const { events } = await rig({ car: { stn: true } });
    assert.equal(connected(events).firmware, 'STN1110 v4.2.1');
  });

  it('keeps one request in flight: 30 queries at once all come back right', async () => {
    const { call } = await rig();
    const pids = ['RPM', 'SPEED', 'COOLANT_TEMP', 'THROTTLE_POS', 'OIL_TEMP', 'ENGINE_LOAD'];
    const got = await Promise.all(
      Array.from({ length: 30 }, (_, i) => call('query', { pid: pids[i % pids.length] })),
    );
    assert.deepEqual(
      got.map((r) => r.type),
      Array.from({ length: 30 }, (_, i) => pids[i % pids.length]!.toLowerCase()),
    );
    assert.deepEqual(
      got.slice(0, 6).map((r) => Math.round(r.value as number)),
      [640, 4, 83, 20, 50, 50],
    );
  });

  it('turns every bad answer into a typed error with the raw text, and the queue goes on', async () => {
    const { call, elm } = await rig();
    const ok = async () => assert.equal((await call('query', { pid: 'SPEED' })).value, 4);
    elm.faults.bufferFull = true;
    await assert.rejects(call('query', { pid: 'RPM' }), {
      code: 'PITCREW_OBD_REPLY',
      message: /BUFFER FULL.*raw/,
    });
    elm.faults.bufferFull = false;
    await ok();
    elm.faults.garbage = true;
    await assert.rejects(call('query', { pid: 'RPM' }), { code: 'PITCREW_OBD_REPLY', message: /GARBAGE/ });
    await ok();
    elm.faults.wrongPid = true;
    await assert.rejects(call('query', { pid: 'RPM' }), {
      code: 'PITCREW_OBD_REPLY',
      message: /WRONG REPLY.*41 0D/,
    });
    elm.faults.wrongPid = false;
    elm.faults.noPrompt = true;
    await assert.rejects(call('query', { pid: 'RPM' }), { code: 'PITCREW_OBD_TIMEOUT', message: /41 ?0C/ });
    await ok();
    elm.faults.slow = 500;
    await assert.rejects(call('query', { pid: 'RPM' }), { code: 'PITCREW_OBD_TIMEOUT' });
    elm.faults.slow = 0;
    await new Promise((r) => setTimeout(r, 400)); // the late answer arrives with nothing in flight
    await ok();
    // Mode 02 (freeze frame) is not in the scripted car: its ECU answers 7F 02 11.
    await assert.rejects(call('query', { pid: { mode: 2, pid: 2, bytes: 2, formula: 'A' } }), {
      code: 'PITCREW_OBD_REPLY',
      message: /NEGATIVE RESPONSE.*7F 02 11/,
    });
  });

  it('works with the echo stuck on', async () => {
    const pty = await PtyPair.start();
    after(() => pty.unplug());
    const elm = new ElmEmulator(pty.device, structuredClone(CAR));
    after(() => elm.close());
    elm.faults.echoStuck = true;
    await elm.attach();
    const { call, tags } = await startDriver(elm327, { port: pty.port, timeout: '300ms' });
    await waitFor(() => tags().includes('vehicle/obd/connected'), 'connect');
    assert.equal(elm.echo, true);
    assert.equal((await call('query', { pid: 'RPM' })).value, 640);
    assert.equal((await call('vin')).value, 'MAT403096BNL00000');
  });

  it('connects with the ignition off, and answers NO DATA until the car is on', async () => {
    const { call, events, elm } = await rig({ car: { off: true } });
    assert.equal(connected(events).protocol, null);
    await assert.rejects(call('query', { pid: 'RPM' }), { code: 'PITCREW_OBD_REPLY', message: /NO DATA/ });
    elm.car.off = false;
    assert.equal((await call('query', { pid: 'RPM' })).value, 640);
  });

  it('survives a pulled cable mid-answer: disconnected, then connected again when the port is back', async () => {
    const { call, tags, pty, elm } = await rig();
    elm.faults.midReply = () => void pty.unplug();
    await assert.rejects(call('query', { pid: 'RPM' }), (e: { code: string }) =>
      ['PITCREW_SERIAL_CLOSED', 'PITCREW_OBD_TIMEOUT'].includes(e.code),
    );
    await waitFor(() => tags().includes('vehicle/obd/disconnected'), 'the disconnect');
    await assert.rejects(call('query', { pid: 'RPM' }), { code: 'PITCREW_SERIAL_CLOSED' });
    await pty.plugIn();
    await elm.attach();
    await waitFor(() => tags().filter((t) => t === 'vehicle/obd/connected').length === 2, 'the reconnect');
    assert.equal((await call('query', { pid: 'RPM' })).value, 640);
  });
});
