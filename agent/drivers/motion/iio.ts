import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { errors } from '../errors.js';

export const AXES = ['x', 'y', 'z'] as const;
export type Axis = (typeof AXES)[number];
export type Vec = [number, number, number];

/** A reading in g as events and signals carry it: to a thousandth. */
export const milliG = (v: number) => Math.round(v * 1000) / 1000;

/** A vector in g as signals and the `accel` handler carry it. */
export const xyz = (v: Vec) => ({ x: milliG(v[0]), y: milliG(v[1]), z: milliG(v[2]) });

/** Standard gravity, m/s²: IIO reports acceleration in m/s² once scaled; the driver speaks g. */
export const G = 9.80665;

/** An IIO device directory, `…/iio:deviceN`, with its `name` and the character device that streams it. */
export interface IioDevice {
  dir: string;
  name: string;
  /** `iio:deviceN`: its buffered character device is `/dev/iio:deviceN`. */
  id: string;
}

const read = (file: string) => readFileSync(file, 'utf8').trim();
const num = (file: string) => Number.parseFloat(read(file));

/**
 * The accelerometer: `device` is a path to an `iio:deviceN` directory, or a name its `name` file
 * holds (`lis3dh`, `mma8452` …), looked for under `root` (`/sys/bus/iio/devices`).
 */
export function findDevice(root: string, device: string): IioDevice {
  if (device.includes('/')) {
    if (!existsSync(path.join(device, 'name')))
      throw errors.MOTION_DEVICE(device, 'is not an IIO device directory (no name file)');
    return { dir: device, name: read(path.join(device, 'name')), id: path.basename(device) };
  }
  const entries = existsSync(root) ? readdirSync(root).filter((e) => e.startsWith('iio:device')) : [];
  const names: string[] = [];
  for (const id of entries.sort()) {
    const dir = path.join(root, id);
    const name = existsSync(path.join(dir, 'name')) ? read(path.join(dir, 'name')) : '';
    if (name === device) return { dir, name, id };
    names.push(name || id);
  }
  throw errors.MOTION_DEVICE(
    device,
    `no IIO device of that name under ${root} (found: ${names.join(', ') || 'none'})`,
  );
}

/** Each axis's scale (m/s² per count) and offset (counts): per-axis files, else the shared `in_accel_scale`. */
export function calibrationOf(dir: string): { scale: Vec; offset: Vec } {
  const pick = (kind: 'scale' | 'offset', fallback: number) =>
    AXES.map((a) => {
      const own = path.join(dir, `in_accel_${a}_${kind}`);
      const shared = path.join(dir, `in_accel_${kind}`);
      return existsSync(own) ? num(own) : existsSync(shared) ? num(shared) : fallback;
    }) as Vec;
  const scale = pick('scale', Number.NaN);
  if (scale.some((s) => !Number.isFinite(s)))
    throw errors.MOTION_DEVICE(
      dir,
      'has no in_accel_scale (nor in_accel_<axis>_scale): readings cannot be put in g',
    );
  return { scale, offset: pick('offset', 0) };
}

/** One polled reading from `in_accel_<axis>_raw`, in g. */
export function readG(dir: string, c: { scale: Vec; offset: Vec }): Vec {
  return AXES.map(
    (a, i) => ((num(path.join(dir, `in_accel_${a}_raw`)) + c.offset[i]!) * c.scale[i]!) / G,
  ) as Vec;
}

/** One channel of a buffered scan, as `scan_elements` describes it. */
interface ScanChannel {
  axis: Axis | 'timestamp';
  index: number;
  be: boolean;
  signed: boolean;
  bits: number;
  bytes: number;
  shift: number;
  /** Byte offset inside a scan. */
  at: number;
}

/** How one scan of the buffered device is laid out: its enabled channels and its size in bytes. */
export interface ScanLayout {
  channels: ScanChannel[];
  size: number;
}

/** `[be|le]:[s|u]bits/storagebits[Xrepeat][>>shift]`, the kernel's scan element type. */
const TYPE = /^(be|le):([su])(\d+)\/(\d+)(?:X\d+)?(?:>>(\d+))?$/;

/**
 * The layout of a scan (Documentation/ABI/testing/sysfs-bus-iio): the enabled channels in index
 * order, each aligned to its own storage size, the scan padded to its largest element.
 */
export function scanLayout(dir: string): ScanLayout {
  const el = path.join(dir, 'scan_elements');
  const channels: ScanChannel[] = [];
  for (const axis of [...AXES, 'timestamp'] as const) {
    const base = axis === 'timestamp' ? 'in_timestamp' : `in_accel_${axis}`;
    if (!existsSync(path.join(el, `${base}_en`)) || read(path.join(el, `${base}_en`)) !== '1') continue;
    const m = TYPE.exec(read(path.join(el, `${base}_type`)));
    if (!m) throw errors.MOTION_DEVICE(dir, `${base}_type is not a scan element type the driver knows`);
    const bytes = Number(m[4]) / 8;
    channels.push({
      axis,
      index: Number(read(path.join(el, `${base}_index`))),
      be: m[1] === 'be',
      signed: m[2] === 's',
      bits: Number(m[3]),
      bytes,
      shift: Number(m[5] ?? 0),
      at: 0,
    });
  }
  if (!AXES.every((a) => channels.some((c) => c.axis === a)))
    throw errors.MOTION_DEVICE(
      dir,
      'the buffer does not have in_accel_x, _y and _z enabled (scan_elements/*_en)',
    );
  channels.sort((a, b) => a.index - b.index);
  let at = 0;
  for (const c of channels) {
    at = Math.ceil(at / c.bytes) * c.bytes;
    c.at = at;
    at += c.bytes;
  }
  const largest = Math.max(...channels.map((c) => c.bytes));
  return { channels, size: Math.ceil(at / largest) * largest };
}

/** A channel's value in one scan: its storage read in its byte order, shifted, masked to its bits, signed. */
function channelValue(buf: Buffer, at: number, c: ScanChannel): number {
  if (c.bytes === 8) {
    const v = c.be ? buf.readBigInt64BE(at) : buf.readBigInt64LE(at);
    return Number(v >> BigInt(c.shift));
  }
  // Up to 32 bits in plain numbers: this runs for every sample of a 1.6 kHz stream.
  const raw =
    c.bytes === 1
      ? buf[at]!
      : c.bytes === 2
        ? c.be
          ? buf.readUInt16BE(at)
          : buf.readUInt16LE(at)
        : c.be
          ? buf.readUInt32BE(at)
          : buf.readUInt32LE(at);
  const v = c.bits >= 32 ? raw >>> c.shift : (raw >>> c.shift) & ((1 << c.bits) - 1);
  return c.signed && c.bits < 32 && v >= 2 ** (c.bits - 1) ? v - 2 ** c.bits : c.signed ? v | 0 : v;
}

/** The axes of one scan (counts) and its timestamp (ns), when the buffer has one. */
export function decodeScan(buf: Buffer, at: number, layout: ScanLayout): { counts: Vec; ns?: number } {
  const counts: Vec = [0, 0, 0];
  let ns: number | undefined;
  for (const c of layout.channels) {
    const v = channelValue(buf, at + c.at, c);
    if (c.axis === 'timestamp') ns = v;
    else counts[AXES.indexOf(c.axis)] = v;
  }
  return ns === undefined ? { counts } : { counts, ns };
}
