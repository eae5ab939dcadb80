import type { DriverName } from '../../schemas/drivers.js';

const OBD = ['query', 'dtc', 'clear_dtc', 'vin', 'voltage', 'raw'] as const;

/** Handlers each driver answers; a module's are known only once it is loaded. */
export const DRIVER_HANDLERS: Record<DriverName, readonly string[] | 'any'> = {
  elm327: OBD,
  'sim-vehicle': [...OBD, 'location'],
  can: ['signals', 'send'],
  nmea: ['location'],
  module: 'any',
};
