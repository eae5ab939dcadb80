/**
 * The installed command (bin/pitcrew.js) with both serial drivers: an ELM327 emulator and an
 * NMEA feeder on real pty pairs, readings and position events on its event stream, the driver
 * status and a handler call through the control socket.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/agent.js';
import { runBin, startCli } from '../helpers/cli.js';
import { CAR, ElmEmulator } from '../helpers/elm-emulator.js';
import { NmeaFeeder } from '../helpers/nmea-feeder.js';
import { PtyPair } from '../helpers/pty.js';
import { configFile } from '../helpers/tmp.js';

describe('pitcrew run with serial drivers (real process, pty pairs)', () => {
  it('reads the car and the receiver, and shows both in status', async () => {
    const obdPty = await PtyPair.start();
    after(() => obdPty.unplug());
    const gnssPty = await PtyPair.start();
    after(() => gnssPty.unplug());
    const elm = new ElmEmulator(obdPty.device, structuredClone(CAR));
    after(() => elm.close());
    await elm.attach();
    const feeder = new NmeaFeeder(gnssPty.device);
    after(() => feeder.close());
    await feeder.attach();
    const { file } = configFile(
      (dir) => `version: 1
unit: { id: car-1, data_dir: var }
control: { socket: ${dir}/ctl.sock }
services:
  obd:
    driver: elm327
    settings: { port: ${obdPty.port}, timeout: 500ms }
    workers:
      - name: fast
        interval: 100ms
        messages:
          - { handler: query, args: { pid: RPM }, returner: [signals, emit] }
  gnss:
    driver: nmea
    settings: { port: ${gnssPty.port} }
    workers:
      - name: position
        interval: 100ms
        messages:
          - { handler: location, trigger: position_state, returner: signals }
`,
    );
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor((l) => l.includes('"vehicle/obd/connected"'));
    const rpm = JSON.parse(await agent.waitFor((l) => l.includes('"vehicle/obd/rpm"'))) as {
      data: { value: number };
    };
    assert.equal(rpm.data.value, 640);
    void feeder.stream(readFileSync(path.join(FIXTURES, 'nmea/bn-9015.log'), 'latin1'), 9600);
    await agent.waitFor((l) => l.includes('"vehicle/position/fix"'));

    const status = await runBin(['status', '-c', file]);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { services: Record<string, { driver: Record<string, unknown> }> };
    assert.equal(s.services.obd!.driver.state, 'up');
    assert.equal(s.services.obd!.driver.adapter, 'ELM327 v1.5');
    assert.equal(s.services.obd!.driver.protocol, 6);
    assert.ok((s.services.gnss!.driver.sentences as number) > 0);
    const vin = await runBin(['call', '-c', file, 'obd', 'vin']);
    assert.equal(vin.code, 0, vin.stderr);
    assert.equal((JSON.parse(vin.stdout) as { value: string }).value, 'MAT403096BNL00000');
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
  });
});
