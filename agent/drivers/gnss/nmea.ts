import * as z from 'zod';
import { Duration } from '../../../schemas/common.js';
import { LineSplitter, TOO_LONG } from '../../core/lines.js';
import { SerialLink } from '../serial/serial-link.js';
import { defineDriver } from '../types.js';
import { FixMerger } from './fix.js';
import { parseNmea } from './nmea-parse.js';

export const NmeaSettings = z.strictObject({
  port: z.string().min(1),
  baudrate: z.number().int().positive().default(9600),
  /** With no sentence for this long, the receiver has no fix. */
  stale: Duration.default(5000),
  reconnect: z
    .strictObject({ min: Duration.default(1000), max: Duration.default(60_000) })
    .default({ min: 1000, max: 60_000 }),
});

/** NMEA allows 82 characters a sentence; longer is line noise (or two sentences run together). */
const MAX_SENTENCE = 160;

/** GNSS NMEA on a serial port (DESIGN §3.3): `location` is the fix merged from every sentence heard. */
export const nmea = defineDriver({
  name: 'nmea',
  settings: NmeaSettings,
  handlers: ['location'],
  create(s, ctx) {
    const fix = new FixMerger();
    const counts = { sentences: 0, bad_checksum: 0, malformed: 0, overlong: 0 };
    let split = new LineSplitter(MAX_SENTENCE);
    const line = (l: string | typeof TOO_LONG) => {
      if (l === TOO_LONG) return void counts.overlong++;
      if (!l || l.charCodeAt(0) === 35 /* # comment */) return;
      const r = parseNmea(l);
      if (r === 'checksum') counts.bad_checksum++;
      else if (r === 'malformed') counts.malformed++;
      else if (r !== 'other') {
        counts.sentences++;
        fix.apply(r, ctx.clock.now());
      }
    };
    const event = (what: 'connected' | 'disconnected', data: Record<string, unknown> = {}) =>
      ctx.bus.emit(`vehicle/gnss/${what}`, { service: ctx.service, port: s.port, ...data }, ctx.service);
    const link = new SerialLink({
      path: s.port,
      baudRate: s.baudrate,
      reconnect: s.reconnect,
      clock: ctx.clock,
      log: ctx.log,
      ready: async () => {
        split = new LineSplitter(MAX_SENTENCE); // a fresh port starts mid-sentence anyway
      },
      data: (chunk) => split.push(chunk.toString('latin1'), line),
      up: () => event('connected'),
      closed: (why, wasUp) => wasUp && event('disconnected', { reason: why }),
    });
    return {
      handlers: {
        location: async () => {
          const ts = ctx.clock.now();
          return { type: 'location', value: fix.location(ts, s.stale), ts };
        },
      },
      start: () => link.start(),
      stop: () => link.stop(),
      status: () => ({
        port: s.port,
        state: link.state,
        ...(link.lastError ? { last_error: link.lastError } : {}),
        ...counts,
        fix: fix.location(ctx.clock.now(), s.stale).fix,
      }),
    };
  },
});
