import { CanSettings, Elm327Settings, NmeaSettings } from '../../schemas/drivers.js';
import { OBD_HANDLERS } from './obd/pids.js';
import { DriverError, defineDriver } from './types.js';

/** Drivers whose hardware support is not in this build yet: they fail plainly at start. */
const notYet = (name: string) => () => {
  throw new DriverError(
    `driver '${name}' is not available in this build of pitcrew yet; use sim-vehicle or a module service`,
    'PITCREW_DRIVER_UNAVAILABLE',
  );
};

export const elm327 = defineDriver({
  name: 'elm327',
  settings: Elm327Settings,
  handlers: OBD_HANDLERS,
  create: notYet('elm327'),
});
export const can = defineDriver({
  name: 'can',
  settings: CanSettings,
  handlers: ['signals', 'send'],
  create: notYet('can'),
});
export const nmea = defineDriver({
  name: 'nmea',
  settings: NmeaSettings,
  handlers: ['location'],
  create: notYet('nmea'),
});
