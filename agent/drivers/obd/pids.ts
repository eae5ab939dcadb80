/** What every OBD driver answers (DESIGN §3.3). */
export const OBD_HANDLERS = ['query', 'dtc', 'clear_dtc', 'vin', 'voltage', 'raw'] as const;

/** J1979 mode 01 PIDs by name: code, data bytes, decoding of the bytes A, B, … and unit. */
export interface PidDef {
  name: string;
  /** Lowercase name: the result `type`, so the signal is `signals.<service>.<type>`. */
  type: string;
  mode: number;
  pid: number;
  bytes: number;
  unit: string;
  decode(b: number[]): number;
}

const def = (
  name: string,
  pid: number,
  bytes: number,
  unit: string,
  decode: (b: number[]) => number,
): PidDef => ({
  name,
  type: name.toLowerCase(),
  mode: 1,
  pid,
  bytes,
  unit,
  decode,
});

const word = (b: number[]) => 256 * b[0]! + b[1]!;
const pct = (b: number[]) => (b[0]! * 100) / 255;
const temp = (b: number[]) => b[0]! - 40;

export const PIDS: readonly PidDef[] = [
  def('ENGINE_LOAD', 0x04, 1, '%', pct),
  def('COOLANT_TEMP', 0x05, 1, '°C', temp),
  def('FUEL_PRESSURE', 0x0a, 1, 'kPa', (b) => 3 * b[0]!),
  def('INTAKE_PRESSURE', 0x0b, 1, 'kPa', (b) => b[0]!),
  def('RPM', 0x0c, 2, 'rpm', (b) => word(b) / 4),
  def('SPEED', 0x0d, 1, 'km/h', (b) => b[0]!),
  def('TIMING_ADVANCE', 0x0e, 1, '°', (b) => b[0]! / 2 - 64),
  def('INTAKE_TEMP', 0x0f, 1, '°C', temp),
  def('MAF', 0x10, 2, 'g/s', (b) => word(b) / 100),
  def('THROTTLE_POS', 0x11, 1, '%', pct),
  def('RUN_TIME', 0x1f, 2, 's', word),
  def('FUEL_LEVEL', 0x2f, 1, '%', pct),
  def('BAROMETRIC_PRESSURE', 0x33, 1, 'kPa', (b) => b[0]!),
  def('CONTROL_MODULE_VOLTAGE', 0x42, 2, 'V', (b) => word(b) / 1000),
  def('AMBIENT_AIR_TEMP', 0x46, 1, '°C', temp),
  def('OIL_TEMP', 0x5c, 1, '°C', temp),
  def('FUEL_RATE', 0x5e, 2, 'L/h', (b) => word(b) / 20),
];

const BY_NAME = new Map(PIDS.map((p) => [p.name, p]));
const BY_CODE = new Map(PIDS.map((p) => [`${p.mode}:${p.pid}`, p]));

/** A PID as config names it: `RPM`, or `{mode, pid}` with numbers or hex strings. */
export function findPid(spec: unknown): PidDef | undefined {
  if (typeof spec === 'string') return BY_NAME.get(spec.toUpperCase());
  if (spec && typeof spec === 'object') {
    const { mode = 1, pid } = spec as { mode?: number | string; pid?: number | string };
    const n = (v: number | string | undefined) => (typeof v === 'string' ? Number.parseInt(v, 16) : v);
    return BY_CODE.get(`${n(mode)}:${n(pid)}`);
  }
  return undefined;
}
