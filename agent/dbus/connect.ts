import { errorText } from '../core/errors.js';
import { requireOptional } from '../core/optional-dependency.js';

type DBus = typeof import('dbus-next');
export type MessageBus = import('dbus-next').MessageBus;
export type ClientInterface = import('dbus-next').ClientInterface;

/**
 * Why the D-Bus client cannot be had, or the client: `dbus-next` is an optional dependency (with
 * `usocket` for the file descriptors logind's inhibitor locks are), loaded on first use.
 */
function client(): DBus | string {
  const dbus = requireOptional<DBus>('dbus-next');
  return typeof dbus === 'string' ? `the optional D-Bus client: ${dbus}` : dbus;
}

/** Why file descriptors cannot travel over the bus (logind's `Inhibit` answers with one), if they cannot. */
export function fdPassingUnavailable(): string | undefined {
  const usocket = requireOptional('usocket');
  return typeof usocket === 'string' ? usocket : undefined;
}

/**
 * A connection to a D-Bus bus: `address` (`unix:path=…`), else the system bus
 * (`$DBUS_SYSTEM_BUS_ADDRESS`, else `/var/run/dbus/system_bus_socket`). Resolves once the bus has
 * answered (a bus that is not there fails here, with why), not on the first call.
 */
export async function connectBus(address?: string): Promise<MessageBus> {
  const dbus = client();
  if (typeof dbus === 'string') throw new Error(dbus);
  const bus = address
    ? dbus.sessionBus({ busAddress: address, negotiateUnixFd: true } as Parameters<DBus['sessionBus']>[0])
    : dbus.systemBus({ negotiateUnixFd: true });
  try {
    await new Promise<void>((resolve, reject) => {
      bus.once('connect', resolve);
      bus.once('error', reject);
    });
  } catch (e) {
    bus.disconnect();
    throw new Error(
      `no D-Bus at ${address ?? process.env.DBUS_SYSTEM_BUS_ADDRESS ?? 'the system bus'}: ${errorText(e)}`,
    );
  }
  return bus;
}

/**
 * Calls `fn` with each signal `iface.member` (any member when absent) from `path` (any path when
 * absent) sent by `sender` (a well-known name, resolved by the bus), whether or not the service's
 * introspection declares it: a match rule on the bus and the raw message stream, not a proxy.
 * Resolves once the bus has taken the rule.
 */
export async function onSignal(
  bus: MessageBus,
  match: { path?: string; iface: string; member?: string; sender?: string },
  fn: (member: string, body: unknown[]) => void,
): Promise<void> {
  const dbus = client() as DBus;
  const rule = [
    "type='signal'",
    `interface='${match.iface}'`,
    ...(match.path ? [`path='${match.path}'`] : []),
    ...(match.member ? [`member='${match.member}'`] : []),
    ...(match.sender ? [`sender='${match.sender}'`] : []),
  ].join(',');
  bus.on('message', (m) => {
    if (m.type !== dbus.MessageType.SIGNAL || m.interface !== match.iface) return;
    if ((match.path && m.path !== match.path) || (match.member && m.member !== match.member)) return;
    fn(m.member, m.body);
  });
  await bus.call(
    new dbus.Message({
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'AddMatch',
      signature: 's',
      body: [rule],
    }),
  );
}
