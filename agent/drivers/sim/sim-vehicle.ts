import * as z from 'zod';
import type { Result } from '../../core/types.js';
import { errors } from '../errors.js';
import { findPid, OBD_HANDLERS } from '../obd/pids.js';
import { defineDriver } from '../types.js';
import { VehicleModel } from './vehicle-model.js';

export const SimVehicleSettings = z.strictObject({
  cycle: z.enum(['urban', 'highway', 'idle']).default('urban'),
  speedup: z.number().positive().max(1000).default(1),
  seed: z.number().int().default(1),
  route: z
    .array(z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }))
    .min(2)
    .optional(),
  vin: z.string().length(17).optional(),
  dtc_rate: z.number().min(0).max(1).optional(),
});

const r1 = (v: number) => Math.round(v * 10) / 10;

/** PID readings the model produces, as a real ECU would report them. */
const READINGS: Record<string, (m: VehicleModel) => number> = {
  RPM: (m) => Math.round(m.rpm * 4) / 4,
  SPEED: (m) => Math.round(m.speed),
  COOLANT_TEMP: (m) => Math.round(m.coolant),
  THROTTLE_POS: (m) => r1(m.throttle),
  ENGINE_LOAD: (m) => (m.engineOn ? r1(Math.min(100, 18 + m.throttle * 1.2)) : 0),
  FUEL_LEVEL: (m) => r1(m.fuel),
  INTAKE_TEMP: (m) => Math.round(12 + (m.coolant - 15) / 8),
  AMBIENT_AIR_TEMP: () => 12,
  MAF: (m) => Math.round(m.rpm * (0.002 + m.throttle / 20_000) * 100) / 100,
  RUN_TIME: (m) => Math.floor(m.runTime),
  CONTROL_MODULE_VOLTAGE: (m) => Math.round(m.volts * 1000) / 1000,
};

const VIN = 'WVWZZZ1KZ8W000042';

/** A simulated car: the ELM327 driver's handlers over a deterministic drive (DESIGN §3.3). */
export const simVehicle = defineDriver({
  name: 'sim-vehicle',
  settings: SimVehicleSettings,
  handlers: [...OBD_HANDLERS, 'location'],
  create(settings, ctx) {
    const model = new VehicleModel({
      cycle: settings.cycle,
      seed: settings.seed,
      route: settings.route,
      dtcRate: settings.dtc_rate ?? 0.05,
    });
    let startedAt = ctx.clock.now();
    const now = () => {
      const t = ctx.clock.now();
      model.advanceTo(((t - startedAt) / 1000) * settings.speedup);
      return t;
    };
    const result = (type: string, value: unknown, unit?: string): Result => ({
      type,
      value,
      ...(unit ? { unit } : {}),
      ts: now(),
    });

    return {
      handlers: {
        async query(args) {
          const pid = findPid(args.pid);
          if (!pid)
            throw errors.DRIVER_ERROR(
              `unknown PID ${JSON.stringify(args.pid)}: use a J1979 name such as RPM or {mode, pid}`,
            );
          const read = READINGS[pid.name];
          if (!read) throw errors.DRIVER_ERROR(`NO DATA: the simulated vehicle does not report ${pid.name}`);
          const ts = now();
          // With the engine off an ECU answers only a few PIDs; an adapter then says NO DATA.
          if (
            !model.engineOn &&
            !['CONTROL_MODULE_VOLTAGE', 'FUEL_LEVEL', 'AMBIENT_AIR_TEMP', 'COOLANT_TEMP'].includes(pid.name)
          ) {
            if (pid.name === 'RPM' || pid.name === 'SPEED')
              return { type: pid.type, value: 0, unit: pid.unit, ts };
            throw errors.DRIVER_ERROR(`NO DATA: engine off, ${pid.name} not reported`);
          }
          return { type: pid.type, value: read(model), unit: pid.unit, ts };
        },
        async voltage() {
          now();
          return result('voltage', r1(model.volts), 'V');
        },
        async dtc() {
          now();
          return result('dtc', [...model.dtcs]);
        },
        async clear_dtc() {
          now();
          model.dtcs = [];
          return result('clear_dtc', true);
        },
        async vin() {
          return result('vin', settings.vin ?? VIN);
        },
        async location() {
          now();
          return result('location', model.position());
        },
        async raw(args) {
          const command = String(args.command ?? '').toUpperCase();
          if (command === 'ATRV') return result('raw', `${r1(model.volts)}V`);
          if (command === 'ATI') return result('raw', 'ELM327 v1.5 (simulated)');
          return result('raw', 'NO DATA');
        },
      },
      async start() {
        startedAt = ctx.clock.now();
        ctx.bus.emit(
          'vehicle/obd/connected',
          { service: ctx.service, adapter: 'simulated', protocol: 6 },
          ctx.service,
        );
      },
      async stop() {
        ctx.bus.emit('vehicle/obd/disconnected', { service: ctx.service }, ctx.service);
      },
    };
  },
});
