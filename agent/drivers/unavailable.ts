import { CanSettings, Elm327Settings, NmeaSettings } from '../../schemas/drivers.js';
import { DriverError, defineDriver } from './types.js';

/** Drivers whose hardware support is not in this build yet: they fail plainly at start. */
const notYet = (name: string) => () => {
  throw new DriverError(
    `driver '${name}' is not available in this build of pitcrew yet; use sim-vehicle or a module service`,
    'PITCREW_DRIVER_UNAVAILABLE',
  );
};

export const elm327 = defineDriver({ name: 'elm327', settings: Elm327Settings, create: notYet('elm327') });
export const can = defineDriver({ name: 'can', settings: CanSettings, create: notYet('can') });
export const nmea = defineDriver({ name: 'nmea', settings: NmeaSettings, create: notYet('nmea') });
