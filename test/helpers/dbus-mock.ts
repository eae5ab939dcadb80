import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import dbus from 'dbus-next';
import { tmpDir } from './tmp.js';

/** The Debian interpreter python3-dbusmock is installed for (not a pyenv or venv one). */
const PYTHON = '/usr/bin/python3';

/**
 * A private D-Bus daemon (a system-bus-like config on a socket in a temporary directory) with a
 * `python3-dbusmock` template published on it, such as `logind`: the real protocol, fd passing
 * included. `address` is what the agent gets as `$DBUS_SYSTEM_BUS_ADDRESS`; `mock` drives the
 * template (its calls, signals to emit), `iface` talks to the mocked service as a client would.
 */
export async function dbusMock(template: string, parameters: Record<string, unknown> = {}) {
  const dir = tmpDir('pitcrew-dbus-');
  const socket = path.join(dir, 'bus.sock');
  const conf = path.join(dir, 'bus.conf');
  writeFileSync(
    conf,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    <allow user="*"/>
  </policy>
</busconfig>
`,
  );
  const address = `unix:path=${socket}`;
  const children: ChildProcess[] = [];
  let log = '';
  const daemon = spawn('dbus-daemon', ['--config-file', conf, '--nofork', '--print-address'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(daemon);
  await new Promise<void>((resolve, reject) => {
    daemon.stdout!.once('data', () => resolve());
    daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
  });
  const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: address };
  const mockProc = spawn(
    PYTHON,
    ['-m', 'dbusmock', '--system', '--template', template, '--parameters', JSON.stringify(parameters)],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(mockProc);
  mockProc.stdout!.on('data', (c: Buffer) => {
    log += c.toString();
  });
  mockProc.stderr!.on('data', (c: Buffer) => {
    log += c.toString();
  });
  const bus = dbus.sessionBus({ busAddress: address, negotiateUnixFd: true } as never);
  const close = () => {
    bus.disconnect();
    for (const c of children) c.kill('SIGKILL');
  };
  return {
    address,
    env: { DBUS_SYSTEM_BUS_ADDRESS: address },
    log: () => log,
    close,
    /** Waits until the template's service owns its name, then an interface of its main object. */
    async iface(name: string, objectPath: string, iface: string) {
      const until = Date.now() + 15_000;
      let obj = await bus.getProxyObject(name, objectPath).catch(() => undefined);
      while (obj?.interfaces[iface] === undefined) {
        if (Date.now() > until) throw new Error(`${name} did not appear on the private bus: ${log}`);
        await new Promise((r) => setTimeout(r, 50));
        obj = await bus.getProxyObject(name, objectPath).catch(() => undefined);
      }
      return { main: obj.getInterface(iface), mock: obj.getInterface('org.freedesktop.DBus.Mock') };
    },
  };
}
