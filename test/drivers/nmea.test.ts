/**
 * The nmea driver over a real pty pair (socat), fed gpsd's logs at a serial line's pace: the fix,
 * the counters, a receiver pulled out and plugged back, and an agent whose position_state trigger
 * turns the fixes into events.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { realClock } from '../../agent/core/clock.js';
import { nmea } from '../../agent/drivers/gnss/nmea.js';
import { agentWith, FIXTURES } from '../helpers/agent.js';
import { startDriver } from '../helpers/driver.js';
import { NmeaFeeder } from '../helpers/nmea-feeder.js';
import { PtyPair } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';

const log = (name: string) => readFileSync(path.join(FIXTURES, 'nmea', `${name}.log`), 'latin1');
/** 10× a 9600-baud line: a log in about a second. */
const FAST = 9600;

async function rig() {
  const pty = await PtyPair.start();
  after(() => pty.unplug());
  const feeder = new NmeaFeeder(pty.device);
  after(() => feeder.close());
  await feeder.attach();
  return { pty, feeder };
}

describe('nmea driver over a pty', () => {
  it('merges a drive into one fix, counting what it drops', async () => {
    const { pty, feeder } = await rig();
    const d = await startDriver(nmea, { port: pty.port, stale: '10s' });
    await waitFor(() => d.tags().includes('vehicle/gnss/connected'), 'the port to open');
    await feeder.stream(log('isync'), FAST);
    await waitFor(
      () => (d.driver.status!().sentences as number) >= 100,
      'the log to arrive',
      () => JSON.stringify(d.driver.status!()),
    );
    const r = await d.call('location');
    assert.equal(r.type, 'location');
    // The log's last fix, as gpsd reports it in isync.log.chk.
    assert.deepEqual(r.value, {
      lat: 41 + 53.85984 / 60,
      lon: -(87 + 38.6367 / 60),
      alt: 218.5,
      speed_kmh: 0.07,
      course: null,
      sats: 12,
      hdop: 0.73,
      fix: '3d',
      utc: '2016-02-03T13:15:30.00Z',
    });
    const status = d.driver.status!();
    assert.equal(status.bad_checksum, 1);
    assert.equal(status.malformed, 1);
    assert.equal(status.state, 'up');
  });

  it('drops over-long lines and console noise without losing the sentences around them', async () => {
    const { pty, feeder } = await rig();
    const d = await startDriver(nmea, { port: pty.port, stale: '10s' });
    await waitFor(() => d.tags().includes('vehicle/gnss/connected'), 'the port to open');
    await feeder.stream(`${'X'.repeat(5000)}\n${log('et-332')}`, FAST * 4);
    await waitFor(
      () => (d.driver.status!().sentences as number) >= 106,
      'the log to arrive',
      () => JSON.stringify(d.driver.status!()),
    );
    const s = d.driver.status!();
    assert.equal(s.overlong, 1);
    assert.equal(s.malformed, 35);
    assert.equal(
      (await d.call('location')).value && ((await d.call('location')).value as { fix: string }).fix,
      '3d',
    );
  });

  it('loses the fix when the receiver is pulled out, and gets it back when it returns', async () => {
    const { pty, feeder } = await rig();
    const d = await startDriver(nmea, {
      port: pty.port,
      stale: '300ms',
      reconnect: { min: '50ms', max: '200ms' },
    });
    const fix = () => d.driver.status!().fix;
    await waitFor(() => d.tags().includes('vehicle/gnss/connected'), 'the port to open');
    await feeder.stream(log('nl2008u'), FAST * 4);
    await waitFor(() => fix() === '3d', 'a fix');
    await feeder.close();
    await pty.unplug();
    await waitFor(() => d.tags().includes('vehicle/gnss/disconnected'), 'the disconnect');
    await waitFor(() => fix() === 'none', 'the fix to go stale');
    assert.equal(((await d.call('location')).value as { lat: unknown }).lat, null);
    await pty.plugIn();
    await feeder.attach();
    await waitFor(() => d.tags().filter((t) => t === 'vehicle/gnss/connected').length === 2, 'the reconnect');
    void feeder.stream(log('bn-9015'), FAST);
    await waitFor(() => fix() === '3d', 'the fix back');
    const { lat, lon } = (await d.call('location')).value as { lat: number; lon: number };
    assert.ok(Math.abs(lat - 52.0142) < 0.001 && Math.abs(lon - 4.363) < 0.001, `${lat}, ${lon}`);
  });

  it('feeds position_state in an agent: fix, moving, standstill', async () => {
    const { pty, feeder } = await rig();
    const { agent, tags } = agentWith(
      `version: 1
services:
  gnss:
    driver: nmea
    settings: { port: ${pty.port}, stale: 3s }
    hooks:
      - { name: motion, kind: trigger, use: position_state, args: { moving_speed: 5 } }
    workers:
      - name: fix
        interval: 100ms
        messages:
          - { handler: location, trigger: motion, returner: signals }
`,
      realClock,
    );
    after(() => agent.stop());
    await agent.start();
    await waitFor(() => tags('vehicle/gnss/').length > 0, 'the port to open');
    await feeder.stream(log('nl2008u'), 2400); // about 3.4 s: each epoch seen by several worker runs
    await waitFor(() => tags('vehicle/position/').includes('vehicle/position/standstill'), 'standstill');
    // Before the first sentence the receiver has no fix: 'lost' first is right.
    const seen = tags('vehicle/position/').filter((t, i) => i > 0 || t !== 'vehicle/position/lost');
    assert.equal(seen[0], 'vehicle/position/fix');
    assert.ok(seen.indexOf('vehicle/position/moving') > 0, seen.join(' '));
    assert.ok(
      seen.lastIndexOf('vehicle/position/standstill') > seen.indexOf('vehicle/position/moving'),
      seen.join(' '),
    );
    assert.equal((agent.signals.get('gnss', 'location')!.value as { fix: string }).fix, '3d');
  });
});
