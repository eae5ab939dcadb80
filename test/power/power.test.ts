/**
 * Power through systemd-logind (DESIGN §13), against a real D-Bus: a private dbus-daemon with
 * python3-dbusmock's logind template, and the agent run as installed. The car is a module whose
 * readings come from a file the test writes: the sleep timer fires once the engine is off, an
 * `inhibit` condition holds it back, a voltage dip below the cut-out powers off whatever `inhibit`
 * says, and a PrepareForSleep while records stream leaves them on disk before the lock goes.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import dbus from 'dbus-next';
import type { Event } from '../../agent/core/bus.js';
import { FIXTURES } from '../helpers/agent.js';
import { runBin, startCli } from '../helpers/cli.js';
import { dbusMock } from '../helpers/dbus-mock.js';
import { tagged } from '../helpers/desired-unit.js';
import { configFile } from '../helpers/tmp.js';

type Car = { voltage: number; engine: boolean; hold: boolean };

async function unit(power: string, extra = '') {
  const logind = await dbusMock(['--template', 'logind']);
  after(() => logind.close());
  const { main, mock } = await logind.iface(
    'org.freedesktop.login1',
    '/org/freedesktop/login1',
    'org.freedesktop.login1.Manager',
  );
  const { dir, file } = configFile(
    (d) => `version: 1
unit: { id: p1, data_dir: var }
control: { socket: ${d}/ctl.sock }
services:
  car:
    driver: module
    settings: { module: ${path.join(FIXTURES, 'modules/car-file.mjs')}, file: ${d}/car.json }
    workers:
      - name: read
        interval: 20ms
        messages:
          - { handler: voltage, returner: signals }
          - { handler: engine, returner: signals }
          - { handler: hold, returner: signals }
${extra}power:
${power.replace(/^/gm, '  ')}
`,
  );
  const car = (c: Car) => writeFileSync(path.join(dir, 'car.json'), JSON.stringify(c));
  car({ voltage: 12.6, engine: true, hold: false });
  const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin', env: logind.env });
  after(() => agent.child.kill('SIGKILL'));
  await agent.waitFor(tagged('system/agent/started'));
  const inhibitors = async () => (await main.ListInhibitors!()) as [string, string, string, string][];
  const calls = async (method: string) => ((await mock.GetMethodCalls!(method)) as unknown[]).length;
  const emit = (signal: string, start: boolean) =>
    mock.EmitSignal!('org.freedesktop.login1.Manager', signal, 'b', [new dbus.Variant('b', start)]);
  /** Polls a D-Bus answer until it satisfies `ok`. */
  const until = async <T>(get: () => Promise<T>, ok: (v: T) => boolean, what: string) => {
    let v = await get();
    const end = Date.now() + 15_000;
    while (!ok(v)) {
      if (Date.now() > end)
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}\n${agent.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
      v = await get();
    }
    return v;
  };
  await until(
    inhibitors,
    (l) =>
      l.some(([what, who, , mode]) => who === 'pitcrew' && what === 'sleep:shutdown' && mode === 'delay'),
    'the delay lock',
  );
  return { dir, file, agent, car, inhibitors, calls, emit, until };
}

const data = (line: string) => (JSON.parse(line) as Event).data;

describe('power through logind', () => {
  it('sleeps when the engine has been off for sleep.after, not while inhibit holds; wakes and takes the lock again', async () => {
    const u = await unit(`voltage: signals.car.voltage
sleep: { after: 300ms, when: { "!": { var: signals.car.engine } } }
inhibit: { "==": [{ var: signals.car.hold }, true] }`);
    u.car({ voltage: 12.6, engine: false, hold: true });
    const held = await u.agent.waitFor(tagged('system/power/inhibited'));
    assert.equal(data(held).action, 'sleep');
    assert.match(String(data(held).reason), /sleep timer/);
    assert.equal(await u.calls('Suspend'), 0, 'held back: logind not asked');
    u.car({ voltage: 12.6, engine: false, hold: false });
    const sleeping = await u.agent.waitFor(tagged('system/power/sleeping'));
    assert.match(String(data(sleeping).reason), /sleep timer: sleep.when held for 0.3s/);
    await u.until(
      () => u.calls('Suspend'),
      (n) => n === 1,
      'Suspend',
    );
    // logind prepares: the agent writes, then lets go of its lock; after the wake it takes it again.
    await u.emit('PrepareForSleep', true);
    await u.until(u.inhibitors, (l) => l.length === 0, 'the lock released');
    u.car({ voltage: 12.6, engine: true, hold: false });
    await u.emit('PrepareForSleep', false);
    const woke = await u.agent.waitFor(tagged('system/power/woke'));
    assert.ok(Number(data(woke).slept_ms) >= 0);
    await u.until(u.inhibitors, (l) => l.length === 1, 'the lock taken again');
    const status = JSON.parse((await runBin(['power', 'status', '-c', u.file])).stdout);
    assert.equal(status.control, 'logind');
    assert.equal(status.lock, true);
    assert.equal(status.last_action.action, 'sleep');
    assert.equal(status.voltage.volts, 12.6);
  });

  it('powers off below the cut-out, whatever inhibit says', async () => {
    const u = await unit(`voltage: signals.car.voltage
cutout: { below: 11.8V, for: 200ms }
inhibit: true`);
    u.car({ voltage: 11.9, engine: false, hold: false });
    u.car({ voltage: 11.5, engine: false, hold: false });
    const off = await u.agent.waitFor(tagged('system/power/shutting_down'));
    assert.match(String(data(off).reason), /cut-out: 11.5 V below 11.8 V for 0.2s/);
    await u.until(
      () => u.calls('PowerOff'),
      (n) => n === 1,
      'PowerOff',
    );
    assert.equal(await u.calls('Suspend'), 0);
  });

  it('a PrepareForSleep while records stream: every record accepted is on disk before the lock is released', async () => {
    const u = await unit(
      `voltage: signals.car.voltage`,
      `  feed:
    driver: module
    settings: { module: ${path.join(FIXTURES, 'modules/car-file.mjs')}, file: /dev/null }
    workers:
      - { name: stream, interval: 10ms, messages: [{ handler: tick, returner: cloud }, { handler: tick, returner: cloud }, { handler: tick, returner: cloud }] }
cloud: { mqtt: { url: "" } }
`,
    );
    await new Promise((r) => setTimeout(r, 300));
    await u.emit('PrepareForSleep', true);
    await u.until(u.inhibitors, (l) => l.length === 0, 'the lock released');
    u.agent.child.kill('SIGKILL');
    await u.agent.exited;
    const said = /"outbox":(\d+).*records written, delay lock released/.exec(u.agent.stderr());
    assert.ok(said, u.agent.stderr());
    const db = new Database(path.join(u.dir, 'var/outbox.db'), { readonly: true });
    const onDisk = (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
    db.close();
    assert.ok(Number(said[1]) > 0, 'records were streaming');
    assert.ok(onDisk >= Number(said[1]), `${onDisk} on disk, ${said[1]} accepted before the release`);
  });
});

describe('power without logind', () => {
  it('validates and runs, and says that power control is unavailable, and why', async () => {
    const { file } = configFile(
      (d) => `version: 1
unit: { id: p2, data_dir: var }
control: { socket: ${d}/ctl.sock }
power: { voltage: signals.car.voltage, cutout: { below: 11.8V, for: 1m } }
`,
    );
    assert.equal((await runBin(['validate', '-c', file])).code, 0);
    const agent = startCli(['run', '-c', file, '--events'], {
      runner: 'bin',
      env: { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
    });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor(tagged('system/agent/started'));
    // The log is stderr, a pipe of its own: its line may come after the event on stdout.
    await agent.waitFor(
      (l) =>
        /PITCREW_POWER_UNAVAILABLE|power control is unavailable \(no D-Bus at unix:path=\/nonexistent\/bus/.test(
          l,
        ),
      20_000,
      'stderr',
    );
    const status = JSON.parse((await runBin(['power', 'status', '-c', file])).stdout);
    assert.match(status.control, /^unavailable: no D-Bus at unix:path=\/nonexistent\/bus/);
    assert.equal(status.lock, false);
  });
});

describe('power from a sysfs power_supply', () => {
  it('the battery as the kernel reports it (voltage_now, µV) drives the cut-out through the power_supply driver', async () => {
    const logind = await dbusMock(['--template', 'logind']);
    after(() => logind.close());
    const { mock } = await logind.iface(
      'org.freedesktop.login1',
      '/org/freedesktop/login1',
      'org.freedesktop.login1.Manager',
    );
    const { dir, file } = configFile(
      (d) => `version: 1
unit: { id: p3, data_dir: var }
control: { socket: ${d}/ctl.sock }
services:
  battery:
    driver: power_supply
    settings: { supply: BAT0, root: ${d}/sys }
    workers: [{ name: read, interval: 20ms, messages: [{ handler: voltage, returner: signals }] }]
power: { voltage: signals.battery.voltage, cutout: { below: 11.8V, for: 100ms } }
`,
    );
    const bat = path.join(dir, 'sys/BAT0');
    mkdirSync(bat, { recursive: true });
    writeFileSync(path.join(bat, 'voltage_now'), '12600000\n');
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin', env: logind.env });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor(tagged('system/agent/started'));
    writeFileSync(path.join(bat, 'voltage_now'), '11400000\n');
    const off = await agent.waitFor(tagged('system/power/shutting_down'));
    assert.match(String(data(off).reason), /cut-out: 11.4 V below 11.8 V/);
    const end = Date.now() + 15_000;
    while (((await mock.GetMethodCalls!('PowerOff')) as unknown[]).length === 0) {
      assert.ok(Date.now() < end, 'PowerOff called');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});
