import { connectBus, type MessageBus, onSignal } from '../../dbus/connect.js';

const NAME = 'org.freedesktop.ModemManager1';
const ROOT = '/org/freedesktop/ModemManager1';
export const MODEM = 'org.freedesktop.ModemManager1.Modem';
const GPP = 'org.freedesktop.ModemManager1.Modem.Modem3gpp';
const BEARER = 'org.freedesktop.ModemManager1.Bearer';

/** MMModemState, from -1 (failed). */
const STATES = [
  'failed',
  'unknown',
  'initializing',
  'locked',
  'disabled',
  'disabling',
  'enabling',
  'enabled',
  'searching',
  'registered',
  'disconnecting',
  'connecting',
  'connected',
];

/** MMModemAccessTechnology bits, most capable first. */
const ACCESS: [bit: number, name: string][] = [
  [1 << 15, '5gnr'],
  [1 << 14, 'lte'],
  [1 << 9, 'hspa+'],
  [1 << 8, 'hspa'],
  [1 << 7, 'hsupa'],
  [1 << 6, 'hsdpa'],
  [1 << 5, 'umts'],
  [1 << 13, 'evdob'],
  [1 << 12, 'evdoa'],
  [1 << 11, 'evdo0'],
  [1 << 10, '1xrtt'],
  [1 << 4, 'edge'],
  [1 << 3, 'gprs'],
  [1 << 2, 'gsm_compact'],
  [1 << 1, 'gsm'],
  [1 << 0, 'pots'],
];

/** MMModem3gppRegistrationState values that mean registered on a network (home, roaming, and their SMS-only/CSFB variants). */
const REGISTERED = new Set([1, 5, 6, 7, 9, 10]);
/** MMModemStateFailedReason: SIM missing. */
const SIM_MISSING = 2;

/** What ModemManager says of the modem, as signals. */
export interface ModemView {
  path: string;
  state: string;
  access: string;
  /** Signal quality, percent. */
  signal: number;
  operator: string;
  registered: boolean;
  roaming: boolean;
  connected: boolean;
  sim: boolean;
}

type Props = Record<string, { value: unknown }>;
type Managed = Record<string, Record<string, Props>>;

const val = (p: Props | undefined, k: string) => p?.[k]?.value;

/** The modem's view from ModemManager's managed objects (one call: every interface, every property). */
export function viewOf(path: string, objects: Managed): ModemView {
  const o = objects[path] ?? {};
  const m = o[MODEM];
  const g = o[GPP];
  const state = Number(val(m, 'State') ?? 0);
  const tech = Number(val(m, 'AccessTechnologies') ?? 0);
  const quality = val(m, 'SignalQuality') as [number, boolean] | undefined;
  const reg = Number(val(g, 'RegistrationState') ?? 0);
  const bearers = (val(m, 'Bearers') as string[] | undefined) ?? [];
  const sim = String(val(m, 'Sim') ?? '/');
  const failed = Number(val(m, 'StateFailedReason') ?? 0);
  return {
    path,
    state: STATES[state + 1] ?? `state ${state}`,
    access: ACCESS.find(([bit]) => tech & bit)?.[1] ?? 'unknown',
    signal: quality ? Number(quality[0]) : 0,
    operator: String(val(g, 'OperatorName') ?? ''),
    registered: REGISTERED.has(reg) || state >= 8,
    roaming: reg === 5 || reg === 7 || reg === 10,
    connected: bearers.some((b) => val(objects[b]?.[BEARER], 'Connected') === true) || state === 11,
    sim: sim !== '/' && !(state === -1 && failed === SIM_MISSING),
  };
}

/**
 * ModemManager over D-Bus (`org.freedesktop.ModemManager1`): its modems through the object
 * manager, and a callback on any change (properties of a modem or bearer, a modem added or gone).
 */
export class ModemManagerClient {
  private constructor(private readonly bus: MessageBus) {}

  static async connect(address: string | undefined, changed: () => void): Promise<ModemManagerClient> {
    const bus = await connectBus(address);
    try {
      // Any property change under ModemManager, and modems coming and going.
      await onSignal(bus, { path: ROOT, iface: 'org.freedesktop.DBus.ObjectManager', sender: NAME }, changed);
      await onSignal(
        bus,
        { iface: 'org.freedesktop.DBus.Properties', member: 'PropertiesChanged', sender: NAME },
        changed,
      );
      return new ModemManagerClient(bus);
    } catch (e) {
      bus.disconnect();
      throw e;
    }
  }

  /** Every object ModemManager has: modems, bearers, SIMs, with all their properties. */
  async objects(): Promise<Managed> {
    const root = await this.bus.getProxyObject(NAME, ROOT);
    const om = root.getInterface('org.freedesktop.DBus.ObjectManager');
    return (await om.GetManagedObjects!()) as Managed;
  }

  /** Modem object paths, in order. */
  static modems(objects: Managed): string[] {
    return Object.keys(objects)
      .filter((p) => objects[p]?.[MODEM])
      .sort();
  }

  async call(path: string, method: string, ...args: unknown[]): Promise<unknown> {
    const obj = await this.bus.getProxyObject(NAME, path);
    return obj.getInterface(MODEM)[method]!(...args);
  }

  close(): void {
    this.bus.disconnect();
  }
}
