import * as z from 'zod';
import { Duration } from '../../schemas/common.js';
import type { Timer } from '../core/clock.js';
import type { BuiltinEvents, BuiltinTag } from '../core/events.js';
import { distanceM } from '../core/geo.js';
import type { HookContext } from '../core/types.js';
import { defineHook, isError, numeric } from './types.js';

/** Emits the state's tag when `next` differs from the last state emitted, its data as the event map says. */
function onChange<S extends string, K extends BuiltinTag>(ctx: HookContext, tagOf: (s: S) => K) {
  let last: S | undefined;
  return (next: S, data: Omit<BuiltinEvents[K], 'service'>) => {
    if (next === last) return;
    last = next;
    ctx.bus.emit(tagOf(next), { service: ctx.service, ...data } as BuiltinEvents[K], ctx.service);
  };
}

export const engineState = defineHook({
  name: 'engine_state',
  kind: 'trigger',
  args: z.strictObject({}),
  create: (_args, ctx) => {
    let ran = false;
    const emit = onChange(ctx, (s: 'running' | 'stopped' | 'not_running') => `vehicle/engine/${s}` as const);
    return (r) => {
      // An adapter answers nothing (NO DATA) for RPM when the engine is off: an error counts as 0.
      const rpm = isError(r) ? 0 : (numeric(r.value) ?? 0);
      if (rpm > 0) ran = true;
      emit(rpm > 0 ? 'running' : ran ? 'stopped' : 'not_running', { rpm });
    };
  },
});

export const batteryState = defineHook({
  name: 'battery_state',
  kind: 'trigger',
  args: z.strictObject({
    critical_volts: z.number().default(12.3),
    charging_volts: z.number().default(13.2),
    hold: Duration.default(3000),
  }),
  create: ({ critical_volts, charging_volts, hold }, ctx) => {
    const emit = onChange(ctx, (s: string) => `vehicle/battery/${s}` as const);
    let candidate: string | undefined;
    let timer: Timer | undefined;
    return (r) => {
      const volts = isError(r) ? undefined : numeric(r.value);
      if (volts === undefined) return;
      const state =
        volts >= charging_volts ? 'charging' : volts < critical_volts ? 'critical_level' : 'discharging';
      if (state === candidate) return;
      // A state counts once it has held for `hold`: a cranking dip is not a critical battery.
      candidate = state;
      timer?.cancel();
      timer = ctx.clock.setTimeout(() => emit(state, { volts }), hold);
    };
  },
});

export const threshold = defineHook({
  name: 'threshold',
  kind: 'trigger',
  args: z
    .strictObject({
      tag: z.string().min(1),
      above: z.number(),
      /** Re-arms only after the value falls below this (hysteresis); default `above`. */
      below: z.number().optional(),
      /** Emitted when the value falls back below `below`. */
      clear_tag: z.string().optional(),
      type: z.string().optional(),
    })
    .refine((a) => a.below === undefined || a.below <= a.above, {
      error: 'below must not be greater than above',
    }),
  create: ({ tag, above, below, clear_tag, type }, ctx) => {
    let high = false;
    const low = below ?? above;
    return (r) => {
      if (isError(r) || (type !== undefined && r.type !== type)) return;
      const v = numeric(r.value);
      if (v === undefined) return;
      if (!high && v > above) {
        high = true;
        ctx.bus.emit(tag, { service: ctx.service, type: r.type, value: v }, ctx.service);
      } else if (high && v < low) {
        high = false;
        if (clear_tag) ctx.bus.emit(clear_tag, { service: ctx.service, type: r.type, value: v }, ctx.service);
      }
    };
  },
});

export const dtcChange = defineHook({
  name: 'dtc_change',
  kind: 'trigger',
  args: z.strictObject({}),
  create: (_args, ctx) => {
    let known = new Set<string>();
    return (r) => {
      if (isError(r) || !Array.isArray(r.value)) return;
      const now = new Set(r.value.map(String));
      const added = [...now].filter((c) => !known.has(c));
      const cleared = [...known].filter((c) => !now.has(c));
      known = now;
      if (added.length)
        ctx.bus.emit('vehicle/dtc/new', { service: ctx.service, codes: added, all: [...now] }, ctx.service);
      if (cleared.length)
        ctx.bus.emit(
          'vehicle/dtc/cleared',
          { service: ctx.service, codes: cleared, all: [...now] },
          ctx.service,
        );
    };
  },
});

interface Fix {
  lat: number;
  lon: number;
  speed?: number;
}

/** A position with a fix: the simulated car's `speed`, or a GNSS receiver's `speed_kmh`. */
function asFix(v: unknown): Fix | undefined {
  const f = v as (Partial<Fix> & { speed_kmh?: number | null }) | null;
  if (!f || typeof f.lat !== 'number' || typeof f.lon !== 'number') return undefined;
  return { lat: f.lat, lon: f.lon, speed: f.speed ?? f.speed_kmh ?? undefined };
}

export const positionState = defineHook({
  name: 'position_state',
  kind: 'trigger',
  args: z.strictObject({
    /** km/h above which the vehicle counts as moving. */
    moving_speed: z.number().min(0).default(5),
    /** Without a speed, metres between two fixes that count as moving. */
    moving_distance: z.number().min(0).default(25),
  }),
  create: ({ moving_speed, moving_distance }, ctx) => {
    const fixState = onChange(ctx, (s: 'fix' | 'lost') => `vehicle/position/${s}` as const);
    const motion = onChange(ctx, (s: 'moving' | 'standstill') => `vehicle/position/${s}` as const);
    let last: Fix | undefined;
    return (r) => {
      const fix = isError(r) ? undefined : asFix(r.value);
      if (!fix) {
        fixState('lost', {});
        last = undefined;
        return;
      }
      fixState('fix', { lat: fix.lat, lon: fix.lon });
      const moving =
        fix.speed !== undefined
          ? fix.speed > moving_speed
          : last !== undefined && distanceM(last.lat, last.lon, fix.lat, fix.lon) > moving_distance;
      last = fix;
      motion(moving ? 'moving' : 'standstill', { lat: fix.lat, lon: fix.lon, speed: fix.speed });
    };
  },
});
