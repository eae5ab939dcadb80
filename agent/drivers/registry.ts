import { can } from './can/can.js';
import { nmea } from './gnss/nmea.js';
import { modem } from './modem/modem.js';
import { moduleDriver } from './module.js';
import { motion } from './motion/motion.js';
import { elm327 } from './obd/elm327.js';
import { powerSupply } from './power-supply/power-supply.js';
import { simVehicle } from './sim/sim-vehicle.js';
import type { DriverDef } from './types.js';

/**
 * Every driver a service's `driver:` can name. Adding a driver: its file (copy `gnss/nmea.ts`),
 * then one line here; the config schema, its JSON Schema and the config checks follow.
 */
export const DRIVERS = [elm327, simVehicle, can, nmea, motion, modem, powerSupply, moduleDriver] as const;

export type DriverName = (typeof DRIVERS)[number]['name'];

const BY_NAME: ReadonlyMap<string, DriverDef> = new Map(DRIVERS.map((d) => [d.name, d]));

export const driverNamed = (name: string): DriverDef | undefined => BY_NAME.get(name);
