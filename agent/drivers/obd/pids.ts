import { compileFormula } from './formula.js';

/** What every OBD driver answers (DESIGN §3.3). */
export const OBD_HANDLERS = ['query', 'dtc', 'clear_dtc', 'vin', 'voltage', 'raw'] as const;

/** A J1979 PID: code, data bytes, decoding of the bytes A, B, … and unit. */
export interface PidDef {
  name: string;
  /** Lowercase name: the result `type`, so the signal is `signals.<service>.<type>`. */
  type: string;
  mode: number;
  pid: number;
  bytes: number;
  unit?: string;
  decode(b: number[]): unknown;
}

const def = (
  name: string,
  pid: number,
  bytes: number,
  unit: string | undefined,
  decode: (b: number[]) => unknown,
): PidDef => ({ name, type: name.toLowerCase(), mode: 1, pid, bytes, unit, decode });

const word = (b: number[]) => 256 * b[0]! + b[1]!;
const pct = (b: number[]) => (b[0]! * 100) / 255;
const temp = (b: number[]) => b[0]! - 40;

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

/** A supported-PIDs bitmap of PID `base`: the PIDs base+1 … base+32 it marks, as hex ("0C"). */
export function supportedIn(base: number, b: number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < 32; i++) if ((b[i >> 3]! >> (7 - (i & 7))) & 1) out.push(hex2(base + i + 1));
  return out;
}

const bitmap = (name: string, base: number) => def(name, base, 4, undefined, (b) => supportedIn(base, b));

export const PIDS: readonly PidDef[] = [
  bitmap('PIDS_A', 0x00),
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
  bitmap('PIDS_B', 0x20),
  def('DISTANCE_W_MIL', 0x21, 2, 'km', word),
  def('FUEL_LEVEL', 0x2f, 1, '%', pct),
  def('DISTANCE_SINCE_DTC_CLEAR', 0x31, 2, 'km', word),
  def('BAROMETRIC_PRESSURE', 0x33, 1, 'kPa', (b) => b[0]!),
  bitmap('PIDS_C', 0x40),
  def('CONTROL_MODULE_VOLTAGE', 0x42, 2, 'V', (b) => word(b) / 1000),
  def('AMBIENT_AIR_TEMP', 0x46, 1, '°C', temp),
  bitmap('PIDS_D', 0x60),
  def('OIL_TEMP', 0x5c, 1, '°C', temp),
  def('FUEL_RATE', 0x5e, 2, 'L/h', (b) => word(b) / 20),
  bitmap('PIDS_E', 0x80),
];

/** Other spellings in use (python-OBD's AMBIANT_AIR_TEMP). */
const ALIASES: Record<string, string> = { AMBIANT_AIR_TEMP: 'AMBIENT_AIR_TEMP' };

const BY_NAME = new Map(PIDS.map((p) => [p.name, p]));
const BY_CODE = new Map(PIDS.map((p) => [`${p.mode}:${p.pid}`, p]));

/** Custom PIDs described in config, compiled once per description. */
const described = new WeakMap<object, PidDef>();

const num = (v: unknown) =>
  typeof v === 'string' ? Number.parseInt(v, 16) : typeof v === 'number' ? v : Number.NaN;

/**
 * A PID as config names it: `RPM`; `{mode, pid}` (numbers, or hex strings) for a known one; or
 * `{mode, pid, bytes, formula, unit?, name?}` described declaratively (formula over A, B, …).
 */
export function findPid(spec: unknown): PidDef | undefined {
  if (typeof spec === 'string') {
    const name = spec.toUpperCase();
    return BY_NAME.get(ALIASES[name] ?? name);
  }
  if (!spec || typeof spec !== 'object') return undefined;
  const s = spec as {
    mode?: unknown;
    pid?: unknown;
    bytes?: unknown;
    formula?: unknown;
    unit?: unknown;
    name?: unknown;
  };
  const mode = s.mode === undefined ? 1 : num(s.mode);
  const pid = num(s.pid);
  if (!Number.isInteger(mode) || !Number.isInteger(pid)) return undefined;
  if (s.formula === undefined) return BY_CODE.get(`${mode}:${pid}`);
  let d = described.get(spec);
  if (!d) {
    const bytes = Number(s.bytes);
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > 8) return undefined;
    const name = typeof s.name === 'string' ? s.name : `PID_${hex2(mode)}${hex2(pid)}`;
    d = {
      ...def(
        name,
        pid,
        bytes,
        typeof s.unit === 'string' ? s.unit : undefined,
        compileFormula(String(s.formula), bytes),
      ),
      mode,
    };
    described.set(spec, d);
  }
  return d;
}

/** The request a PID is read with: mode and PID as hex, `010C`. */
export const requestFor = (p: PidDef) => `${hex2(p.mode)}${hex2(p.pid)}`;
