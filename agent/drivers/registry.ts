import type { DriverName } from '../../schemas/drivers.js';
import { moduleDriver } from './module.js';
import { simVehicle } from './sim/sim-vehicle.js';
import type { DriverDef } from './types.js';
import { can, elm327, nmea } from './unavailable.js';

/** Drivers by the name a service's `driver:` gives. */
export const DRIVERS: Record<DriverName, DriverDef> = {
  elm327,
  'sim-vehicle': simVehicle as unknown as DriverDef,
  can,
  nmea,
  module: moduleDriver as unknown as DriverDef,
};
