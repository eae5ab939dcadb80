/**
 * The modem driver (DESIGN §13) against a mock ModemManager on a private dbus-daemon, published
 * with python3-dbusmock's generic object API (an object manager, a modem with the Modem and
 * Modem3gpp interfaces, a bearer, properties as ModemManager's introspection defines them), whose
 * state the test changes; through the installed command, with the cloud link told to wait for
 * `signals.modem.connected` against a real broker.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import dbus from 'dbus-next';
import type { Event } from '../../agent/core/bus.js';
import { runBin, startCli } from '../helpers/cli.js';
import { dbusMock } from '../helpers/dbus-mock.js';
import { tagged } from '../helpers/desired-unit.js';
import { Broker } from '../helpers/mosquitto.js';
import { configFile } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const MM = 'org.freedesktop.ModemManager1';
const ROOT = '/org/freedesktop/ModemManager1';
const MODEM = `${ROOT}/Modem/0`;
const BEARER = `${ROOT}/Bearer/0`;
const v = (sig: string, value: unknown) => new dbus.Variant(sig, value);

describe('modem through ModemManager', () => {
  it('sets signals and emits registered, connected, sim_missing and lost as ModemManager changes; reset; the link waits for connected', async () => {
    const mm = await dbusMock(['-m', MM, ROOT, MM]);
    after(() => mm.close());
    const { mock: root } = await mm.iface(MM, ROOT, MM);
    await root.AddObject!(
      BEARER,
      `${MM}.Bearer`,
      { Connected: v('b', false), Interface: v('s', 'wwan0') },
      [],
    );
    await root.AddObject!(
      MODEM,
      `${MM}.Modem`,
      {
        State: v('i', 6),
        StateFailedReason: v('u', 0),
        AccessTechnologies: v('u', 1 << 14),
        SignalQuality: v('(ub)', [71, true]),
        Sim: v('o', `${ROOT}/SIM/0`),
        Bearers: v('ao', [BEARER]),
        EquipmentIdentifier: v('s', '860000000000001'),
      },
      [['Reset', '', '', '']],
    );
    const { mock: modem } = await mm.iface(MM, MODEM, `${MM}.Modem`);
    const { mock: bearer } = await mm.iface(MM, BEARER, `${MM}.Bearer`);
    await modem.AddProperties!(`${MM}.Modem.Modem3gpp`, {
      RegistrationState: v('u', 2),
      OperatorName: v('s', 'Telia'),
      OperatorCode: v('s', '24001'),
    });

    const broker = await Broker.start();
    after(() => broker.close());
    const { file } = configFile(
      (d) => `version: 1
unit: { id: mm1, data_dir: var }
control: { socket: ${d}/ctl.sock }
cloud: { mqtt: { url: "${broker.url}", reconnect: { min: 100ms, max: 1s }, when: { var: signals.modem.connected } } }
services:
  modem: { driver: modem, settings: { poll: 1h } }
`,
    );
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin', env: mm.env });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor(tagged('system/agent/started'));
    const status = async () => JSON.parse((await runBin(['status', '-c', file])).stdout);
    const signals = async () =>
      Object.fromEntries(
        (await runBin(['signals', 'modem', '--json', '-c', file])).stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { signal: string; value: unknown })
          .map((s) => [s.signal.replace('signals.modem.', ''), s.value]),
      );
    await waitFor(() => agent.stderr().length > 0, 'the agent running');
    let st = await status();
    assert.equal(st.cloud.state, 'held', 'no network yet: the link does not try');
    assert.equal(st.cloud.attempts, 0);
    assert.deepEqual(await signals(), {
      state: 'enabled',
      access: 'lte',
      signal: 71,
      operator: 'Telia',
      registered: false,
      connected: false,
    });

    await modem.UpdateProperties!(`${MM}.Modem.Modem3gpp`, { RegistrationState: v('u', 1) });
    await modem.UpdateProperties!(`${MM}.Modem`, { State: v('i', 8) });
    const registered = JSON.parse(await agent.waitFor(tagged('vehicle/modem/registered'))) as Event;
    assert.deepEqual([registered.data.operator, registered.data.roaming], ['Telia', false]);

    await bearer.UpdateProperties!(`${MM}.Bearer`, { Connected: v('b', true) });
    await modem.UpdateProperties!(`${MM}.Modem`, { State: v('i', 11) });
    await agent.waitFor(tagged('vehicle/modem/connected'));
    await agent.waitFor(tagged('system/cloud/connected'));
    st = await status();
    assert.equal(st.cloud.attempts, 1, 'one attempt, once there was a network');

    const reset = await runBin(['call', 'modem', 'reset', '-c', file]);
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal(((await modem.GetMethodCalls!('Reset')) as unknown[]).length, 1);

    // The SIM pulled: ModemManager fails the modem with the reason sim-missing; the network goes.
    await bearer.UpdateProperties!(`${MM}.Bearer`, { Connected: v('b', false) });
    await modem.UpdateProperties!(`${MM}.Modem.Modem3gpp`, { RegistrationState: v('u', 0) });
    await modem.UpdateProperties!(`${MM}.Modem`, { State: v('i', -1), StateFailedReason: v('u', 2) });
    await agent.waitFor(tagged('vehicle/modem/sim_missing'));
    await agent.waitFor(tagged('vehicle/modem/lost'));
    await agent.waitFor(tagged('vehicle/modem/disconnected'));
    assert.equal((await signals()).registered, false);
  });

  it('without ModemManager: a clear status, and it keeps looking', async () => {
    const { file } = configFile(
      (d) => `version: 1
unit: { id: mm2, data_dir: var }
control: { socket: ${d}/ctl.sock }
services:
  modem: { driver: modem, settings: { bus: "unix:path=/nonexistent/bus" } }
`,
    );
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor(tagged('system/agent/started'));
    const st = JSON.parse((await runBin(['status', '-c', file])).stdout);
    assert.equal(st.services.modem.driver.state, 'waiting');
    assert.match(st.services.modem.driver.last_error, /no D-Bus at unix:path=\/nonexistent\/bus/);
  });
});
