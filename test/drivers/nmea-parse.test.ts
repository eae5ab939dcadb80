/**
 * The NMEA parser and fix merger on gpsd's regression logs (fixtures/nmea): every position gpsd
 * reports in its .chk oracle is the position the merger holds at that point.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FixMerger } from '../../agent/drivers/gnss/fix.js';
import { parseNmea } from '../../agent/drivers/gnss/nmea-parse.js';
import { FIXTURES } from '../helpers/agent.js';

const LOGS = ['bn-9015', 'et-332', 'isync', 'nl2008u'];
const read = (f: string) => readFileSync(path.join(FIXTURES, 'nmea', f), 'latin1').split('\n');
const sentences = (name: string) => read(`${name}.log`).filter((l) => l && !l.startsWith('#'));

describe('NMEA sentences', () => {
  it('decodes each sentence type (values worked out by hand)', () => {
    assert.deepEqual(
      parseNmea('$GPGGA,131519.00,4153.85990,N,08738.63638,W,2,12,0.95,218.1,M,-33.8,M,,0000*61\r'),
      {
        type: 'GGA',
        talker: 'GP',
        time: '131519.00',
        lat: 41 + 53.8599 / 60,
        lon: -(87 + 38.63638 / 60),
        quality: 2,
        sats: 12,
        hdop: 0.95,
        alt: 218.1,
      },
    );
    const rmc = parseNmea('$GPRMC,131519.00,A,4153.85990,N,08738.63638,W,0.048,,030216,,,D*61');
    assert.deepEqual(rmc, {
      type: 'RMC',
      talker: 'GP',
      time: '131519.00',
      valid: true,
      lat: 41 + 53.8599 / 60,
      lon: -(87 + 38.63638 / 60),
      speedKn: 0.048,
      course: undefined,
      date: '030216',
    });
    assert.deepEqual(parseNmea('$GPGSA,A,3,26,15,21,27,24,09,18,05,29,,,,1.9,1.3,1.4*33'), {
      type: 'GSA',
      talker: 'GP',
      mode: 3,
      prns: [26, 15, 21, 27, 24, 9, 18, 5, 29],
      pdop: 1.9,
      hdop: 1.3,
      vdop: 1.4,
    });
    const gsv = parseNmea('$GPGSV,3,3,11,31,18,305,,32,06,331,,20,02,354,*40');
    assert.deepEqual(gsv, {
      type: 'GSV',
      talker: 'GP',
      total: 3,
      index: 3,
      inView: 11,
      sats: [
        { prn: 31, elevation: 18, azimuth: 305, snr: undefined },
        { prn: 32, elevation: 6, azimuth: 331, snr: undefined },
        { prn: 20, elevation: 2, azimuth: 354, snr: undefined },
      ],
    });
    assert.deepEqual(parseNmea('$GPVTG,,T,,M,0.048,N,0.089,K,D*2B'), {
      type: 'VTG',
      talker: 'GP',
      course: undefined,
      speedKmh: 0.089,
    });
    assert.deepEqual(parseNmea('$GNGLL,4813.2480,N,00825.3129,E,093453.000,A,A*49'), {
      type: 'GLL',
      talker: 'GN',
      time: '093453.000',
      valid: true,
      lat: 48 + 13.248 / 60,
      lon: 8 + 25.3129 / 60,
    });
    assert.deepEqual(parseNmea('$GNZDA,093453.000,10,10,2015,,*46'), {
      type: 'ZDA',
      talker: 'GN',
      time: '093453.000',
      day: 10,
      month: 10,
      year: 2015,
    });
  });

  it('reads numbers exactly as Number() does (random GGA sentences)', () => {
    const decimal = (intDigits: number) =>
      fc
        .tuple(
          fc.integer({ min: 0, max: 10 ** intDigits - 1 }),
          fc.integer({ min: 0, max: 99999 }),
          fc.integer({ min: 0, max: 5 }),
        )
        .map(([i, f, n]) => {
          const int = String(i).padStart(intDigits, '0'); // NMEA pads degrees and minutes
          return n ? `${int}.${String(f).padStart(5, '0').slice(0, n)}` : int;
        });
    const checksum = (body: string) => {
      let x = 0;
      for (const ch of body) x ^= ch.charCodeAt(0);
      return x.toString(16).toUpperCase().padStart(2, '0');
    };
    fc.assert(
      fc.property(
        decimal(4),
        decimal(5),
        fc.constantFrom('N', 'S'),
        fc.constantFrom('E', 'W'),
        decimal(4),
        fc.boolean(),
        (lat, lon, ns, ew, alt, below) => {
          const altText = below ? `-${alt}` : alt;
          const body = `GNGGA,120000.00,${lat},${ns},${lon},${ew},1,08,1.0,${altText},M,0,M,,`;
          const s = parseNmea(`$${body}*${checksum(body)}`);
          assert.ok(typeof s === 'object' && s.type === 'GGA');
          const deg = (t: string) => {
            const dot = t.indexOf('.');
            const split = (dot < 0 ? t.length : dot) - 2;
            return Number(t.slice(0, split)) + Number(t.slice(split)) / 60;
          };
          assert.equal(s.lat, (ns === 'S' ? -1 : 1) * deg(lat));
          assert.equal(s.lon, (ew === 'W' ? -1 : 1) * deg(lon));
          assert.equal(s.alt, Number(altText));
        },
      ),
    );
  });

  it('rejects bad checksums, non-NMEA lines, and passes over sentences it does not read', () => {
    assert.equal(parseNmea('$GNZDA,093453.000,10,10,2015,,*47'), 'checksum');
    assert.equal(parseNmea('+ 6: 28 (.....)'), 'malformed');
    assert.equal(parseNmea('$GPGSA,A,3,26,15*3\x1b[H\x1b[J3'), 'malformed');
    assert.equal(parseNmea('$GNZDA,093453.000,10,10,2015,,*4'), 'malformed');
    assert.equal(parseNmea('$GNTXT,01,01,02,PROTVER 15.00*01'), 'other');
    assert.equal(parseNmea('$PTNTA,20160203131536,2,T4,000000066,+108,3,0,3*18'), 'other');
  });

  it('counts what the logs hold: isync one collision and one fragment, et-332 its console noise', () => {
    const tally = (name: string) => {
      const t: Record<string, number> = {};
      for (const l of sentences(name)) {
        const r = parseNmea(l);
        const k = typeof r === 'string' ? r : r.type;
        t[k] = (t[k] ?? 0) + 1;
      }
      return t;
    };
    const isync = tally('isync');
    assert.equal(isync.checksum, 1); // $GPGSV…0$PTNTA…*18: the checksum is the embedded PTNTA's
    assert.equal(isync.malformed, 1); // the orphan fragment 5,34,060,…
    const et = tally('et-332');
    // Lines that are not sentences (console output), and the GSA cut by terminal escapes.
    const noise = sentences('et-332').filter((l) => !l.startsWith('$') || l.includes('\x1b')).length;
    assert.equal(et.malformed, noise);
    assert.equal(et.checksum, undefined);
    const nl = tally('nl2008u'); // SOURCE.md: 9×RMC, 9×VTG, 9×GGA, 18×GSA, 56×GSV, 9×GLL, 9×ZDA
    assert.deepEqual([nl.RMC, nl.VTG, nl.GGA, nl.GSA, nl.GSV, nl.GLL, nl.ZDA], [9, 9, 9, 18, 56, 9, 9]);
  });
});

describe('fix merger against gpsd', () => {
  for (const name of LOGS)
    it(`holds every position and time of day gpsd reports for ${name}`, () => {
      const fix = new FixMerger();
      let compared = 0;
      for (const line of read(`${name}.log.chk`)) {
        if (line.startsWith('$')) {
          const s = parseNmea(line);
          if (typeof s !== 'string') fix.apply(s, 0);
          continue;
        }
        if (!line.startsWith('{"class":"TPV"')) continue;
        const tpv = JSON.parse(line) as {
          mode: number;
          lat?: number;
          lon?: number;
          altMSL?: number;
          time?: string;
        };
        if (tpv.lat === undefined || tpv.mode < 2) continue;
        const ours = fix.location(0, 1000);
        assert.ok(
          Math.abs(ours.lat! - tpv.lat) < 1e-6 && Math.abs(ours.lon! - tpv.lon!) < 1e-6,
          `${line}\n${JSON.stringify(ours)}`,
        );
        if (tpv.mode === 3 && tpv.altMSL !== undefined) assert.equal(ours.alt, tpv.altMSL);
        // gpsd shifts dates for GPS week rollover: the time of day is what compares.
        if (tpv.time && ours.utc) assert.equal(ours.utc.slice(11, 19), tpv.time.slice(11, 19));
        compared++;
      }
      assert.ok(compared >= 10, `${compared} positions compared`);
    });

  it('has no position when the receiver says so, or has gone quiet', () => {
    const fix = new FixMerger();
    fix.apply(
      parseNmea('$GPRMC,171001.972,V,5200.8499,N,00421.7860,E,000.0,000.0,120610,,,N*7D') as never,
      0,
    );
    assert.equal(fix.location(0, 1000).fix, 'none');
    assert.equal(fix.location(0, 1000).lat, null);
    fix.apply(
      parseNmea('$GPGGA,171003.972,5200.8519,N,00421.7819,E,1,08,1.0,8.8,M,44.8,M,,0000*57') as never,
      0,
    );
    assert.equal(fix.location(0, 1000).fix, '3d');
    assert.equal(fix.location(1000, 1000).fix, '3d');
    assert.equal(fix.location(1001, 1000).fix, 'none');
  });
});
