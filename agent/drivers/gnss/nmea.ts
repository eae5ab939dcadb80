import * as z from 'zod';
import { defineDriver } from '../types.js';
import { notInThisBuild } from '../unavailable.js';

export const NmeaSettings = z.strictObject({
  port: z.string().min(1),
  baudrate: z.number().int().positive().default(9600),
});

/** GNSS NMEA on a serial port (DESIGN §3.3). */
export const nmea = defineDriver({
  name: 'nmea',
  settings: NmeaSettings,
  handlers: ['location'],
  create: notInThisBuild('nmea'),
});
