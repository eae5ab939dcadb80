import { milliG, type Vec } from './iio.js';

/** A threshold that must hold for a time: `g` for `for` ms. */
export interface Held {
  g: number;
  for: number;
}

export interface Thresholds {
  harsh_braking: Held;
  harsh_acceleration: Held;
  harsh_cornering: Held;
  /** A peak of at least `g` (gravity taken out), reported after `within` ms with the peak in it. */
  impact: { g: number; within: number };
  /** Moving (the 1 s RMS of the motion at least `g`) for `for` ms while the engine is off. */
  tow: Held;
}

export type MotionEvent = 'harsh_braking' | 'harsh_acceleration' | 'harsh_cornering' | 'impact' | 'tow';

const RMS_WINDOW_MS = 1000;

/** A condition held over sample time: fires once when it has held `for` ms, again only after it let go. */
class Hold {
  private since?: number;
  private fired = false;
  peak = 0;

  /** True on the sample at which it has held long enough. */
  step(on: boolean, t: number, level: number, needed: number): boolean {
    if (!on) {
      this.since = undefined;
      this.fired = false;
      this.peak = 0;
      return false;
    }
    this.since ??= t;
    if (Math.abs(level) > Math.abs(this.peak)) this.peak = level;
    if (this.fired || t - this.since < needed) return false;
    this.fired = true;
    return true;
  }

  held(t: number): number {
    return this.since === undefined ? 0 : t - this.since;
  }
}

/**
 * Driving events from the acceleration in the vehicle's frame with gravity taken out (x forward,
 * y left, z up, in g), on the samples' own time (DESIGN §13): harsh braking, acceleration and
 * cornering when their threshold has held for its time; an impact once per peak, with the peak and
 * its direction; tow when the unit moves while the engine is off.
 */
export class MotionDetector {
  private readonly holds = {
    harsh_braking: new Hold(),
    harsh_acceleration: new Hold(),
    harsh_cornering: new Hold(),
    tow: new Hold(),
  };
  private impact?: { start: number; peak: number; at: Vec };
  private impactArmed = true;
  private readonly window: { t: number; sq: number }[] = [];
  private sumSq = 0;

  constructor(
    private readonly th: Thresholds,
    private readonly emit: (event: MotionEvent, data: Record<string, unknown>, t: number) => void,
  ) {}

  /** One sample: `a` the motion in g (gravity out), `t` its time in ms, `engineOff` as the signals say. */
  sample(a: Vec, t: number, engineOff: boolean): void {
    const th = this.th;
    const [x, y] = a;
    const mag = Math.hypot(a[0], a[1], a[2]);
    const h = this.holds;
    if (h.harsh_braking.step(x <= -th.harsh_braking.g, t, x, th.harsh_braking.for))
      this.emit('harsh_braking', { peak_g: milliG(-h.harsh_braking.peak), ms: h.harsh_braking.held(t) }, t);
    if (h.harsh_acceleration.step(x >= th.harsh_acceleration.g, t, x, th.harsh_acceleration.for))
      this.emit(
        'harsh_acceleration',
        { peak_g: milliG(h.harsh_acceleration.peak), ms: h.harsh_acceleration.held(t) },
        t,
      );
    if (h.harsh_cornering.step(Math.abs(y) >= th.harsh_cornering.g, t, y, th.harsh_cornering.for))
      this.emit(
        'harsh_cornering',
        {
          peak_g: milliG(Math.abs(h.harsh_cornering.peak)),
          direction: h.harsh_cornering.peak > 0 ? 'left' : 'right',
          ms: h.harsh_cornering.held(t),
        },
        t,
      );
    this.detectImpact(a, mag, t);
    // Moving: the RMS of the motion over the last second.
    this.window.push({ t, sq: mag * mag });
    this.sumSq += mag * mag;
    while (this.window.length && this.window[0]!.t <= t - RMS_WINDOW_MS)
      this.sumSq -= this.window.shift()!.sq;
    const rms = Math.sqrt(Math.max(0, this.sumSq) / this.window.length);
    if (h.tow.step(engineOff && rms >= th.tow.g, t, rms, th.tow.for))
      this.emit('tow', { rms_g: milliG(rms), ms: h.tow.held(t) }, t);
  }

  private detectImpact(a: Vec, mag: number, t: number): void {
    const th = this.th.impact;
    if (this.impact) {
      if (mag > this.impact.peak) this.impact = { ...this.impact, peak: mag, at: a };
      if (t - this.impact.start < th.within) return;
      const { peak, at } = this.impact;
      this.impact = undefined;
      this.impactArmed = false;
      this.emit(
        'impact',
        {
          peak_g: milliG(peak),
          direction: { x: milliG(at[0] / peak), y: milliG(at[1] / peak), z: milliG(at[2] / peak) },
          // Where it came from, in the road's plane: 0° ahead, 90° left, 180° behind.
          heading_deg: Math.round(((Math.atan2(at[1], at[0]) * 180) / Math.PI + 360) % 360),
        },
        t,
      );
      return;
    }
    if (mag < th.g) this.impactArmed = true;
    else if (this.impactArmed) this.impact = { start: t, peak: mag, at: a };
  }
}
