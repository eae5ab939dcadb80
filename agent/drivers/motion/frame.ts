import type { Axis, Vec } from './iio.js';

/** A vehicle axis as a sensor axis with a sign: `x`, `-y` … (vehicle: x forward, y left, z up). */
export type AxisMap = Record<Axis, string>;

/** A 3×3 rotation, rows. */
export type Matrix = [Vec, Vec, Vec];

export const IDENTITY: Matrix = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

const AXIS_INDEX: Record<string, number> = { x: 0, y: 1, z: 2 };

/** Sensor axes to vehicle axes: which sensor axis each vehicle axis is, and its sign. */
export function axisMapper(map: AxisMap): (v: Vec) => Vec {
  const pick = (['x', 'y', 'z'] as const).map((a) => {
    const m = /^([+-]?)([xyz])$/.exec(map[a])!;
    return { i: AXIS_INDEX[m[2]!]!, sign: m[1] === '-' ? -1 : 1 };
  });
  return (v) => [
    pick[0]!.sign * v[pick[0]!.i]!,
    pick[1]!.sign * v[pick[1]!.i]!,
    pick[2]!.sign * v[pick[2]!.i]!,
  ];
}

export const rotate = (m: Matrix, v: Vec): Vec => [
  m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2],
  m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
  m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2],
];

const norm = (v: Vec) => Math.hypot(v[0], v[1], v[2]);

/**
 * The rotation that turns gravity as measured at rest into straight up, (0, 0, 1) g (Rodrigues'
 * formula): the unit's mounting tilt, learned by `calibrate`. The heading (which way is forward)
 * is the axis map's to say, since gravity cannot tell it.
 */
export function levelling(gravity: Vec): Matrix {
  const n = norm(gravity);
  const a: Vec = [gravity[0] / n, gravity[1] / n, gravity[2] / n];
  // a × (0,0,1) and a · (0,0,1)
  const v: Vec = [a[1], -a[0], 0];
  const s = norm(v);
  const c = a[2];
  if (s < 1e-9)
    return c > 0
      ? IDENTITY
      : [
          [1, 0, 0],
          [0, -1, 0],
          [0, 0, -1],
        ];
  const k = (1 - c) / (s * s);
  const [x, y, z] = v;
  return [
    [1 - k * (y * y + z * z), -z + k * x * y, y + k * x * z],
    [z + k * x * y, 1 - k * (x * x + z * z), -x + k * y * z],
    [-y + k * x * z, x + k * y * z, 1 - k * (x * x + y * y)],
  ];
}
