import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import dbus from 'dbus-next';
import { tmpDir } from './tmp.js';

/** The Debian interpreter python3-dbusmock is installed for (not a pyenv or venv one). */
const PYTHON = '/usr/bin/python3';

/**
 * A private D-Bus daemon (a system-bus-like config on a socket in a temporary directory) with a
 * `python3-dbusmock` service published on it: `args` as its command line takes them (a template,
 * `['--template', 'logind']`, or a name, path and interface for its generic object API): the real
 * protocol, fd passing included. `address` is what the agent gets as `$DBUS_SYSTEM_BUS_ADDRESS`;
 * `iface` gives an object's interface and its mock interface (calls, signals, objects to add).
 */
export async function dbusMock(args: string[]) {
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
  const mockProc = spawn(PYTHON, ['-m', 'dbusmock', '--system', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
