/** JsonLogic's `distance` in metres, over its arguments as written: for the closures and the generated code alike. */
import { distanceM } from '../core/geo.js';

const num = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

/** Any arguments: points as `{lat, lon}` objects, lists or four numbers; null unless they come to four numbers. */
export function distanceOf(...args: unknown[]): number | null {
  const flat = args.flatMap((p) =>
    p !== null && typeof p === 'object' && !Array.isArray(p)
      ? [(p as { lat: number }).lat, (p as { lon: number }).lon]
      : p,
  ) as number[];
  if (flat.length !== 4 || flat.some((n) => typeof n !== 'number' || Number.isNaN(n))) return null;
  return distanceM(flat[0]!, flat[1]!, flat[2]!, flat[3]!);
}

/** Two points, usually `{lat, lon}` objects: without building lists. */
export function distanceOfPoints(p: unknown, q: unknown): number | null {
  if (Array.isArray(p) || Array.isArray(q)) return distanceOf(p, q);
  if (p === null || q === null || typeof p !== 'object' || typeof q !== 'object') return null;
  const a = p as { lat?: unknown; lon?: unknown };
  const b = q as { lat?: unknown; lon?: unknown };
  return num(a.lat) && num(a.lon) && num(b.lat) && num(b.lon) ? distanceM(a.lat, a.lon, b.lat, b.lon) : null;
}

/** Four numbers: lat and lon of one point, then of the other. */
export function distanceOfNumbers(w: unknown, x: unknown, y: unknown, z: unknown): number | null {
  return num(w) && num(x) && num(y) && num(z) ? distanceM(w, x, y, z) : null;
}
