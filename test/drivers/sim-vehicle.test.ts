import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findPid, PIDS } from '../../agent/drivers/obd/pids.js';
import { VehicleModel } from '../../agent/drivers/sim/vehicle-model.js';

function drive(seed: number, seconds: number, cycle: 'urban' | 'highway' | 'idle' = 'urban') {
  const m = new VehicleModel({ cycle, seed, dtcRate: 0.5 });
  const samples: { t: number; speed: number; rpm: number; on: boolean; pos: { lat: number; lon: number } }[] =
    [];
  for (let t = 1; t <= seconds; t++) {
    m.advanceTo(t);
    samples.push({ t, speed: m.speed, rpm: m.rpm, on: m.engineOn, pos: m.position() });
  }
  return { m, samples };
}

describe('simulated vehicle model', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = drive(42, 600).samples;
    const b = drive(42, 600).samples;
    const c = drive(43, 600).samples;
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('starts parked, then drives a plausible urban cycle', () => {
    const { m, samples } = drive(42, 3600);
    assert.equal(samples[0]!.on, false);
    assert.equal(samples[0]!.rpm, 0);
    assert.ok(samples.some((s) => s.on));
    const speeds = samples.map((s) => s.speed);
    assert.ok(Math.max(...speeds) > 25 && Math.max(...speeds) < 75, `max urban speed ${Math.max(...speeds)}`);
    assert.ok(speeds.filter((v) => v === 0).length > 60, 'stops at lights');
    for (const s of samples) {
      if (s.on) assert.ok(s.rpm >= 700 && s.rpm < 5000, `rpm ${s.rpm}`);
      else assert.equal(s.rpm, 0);
    }
    assert.ok(m.coolant > 70 && m.coolant < 95, `coolant ${m.coolant}`);
    assert.ok(m.fuel < 72 && m.fuel > 60, `fuel ${m.fuel}`);
    assert.ok(m.odometer > 5000, `distance ${m.odometer}`);
    assert.ok(m.dtcs.length > 0, 'trouble codes appear now and then');
  });

  it('parks (engine off) now and then in urban driving, and moves along its route', () => {
    const { samples } = drive(42, 3 * 3600);
    const offAfterDriving = samples.findIndex((s, i) => i > 60 && !s.on);
    assert.ok(offAfterDriving > 0, 'the engine goes off again after driving');
    const first = samples[0]!.pos;
    const moved = samples.some((s) => Math.abs(s.pos.lat - first.lat) > 0.005);
    assert.ok(moved);
  });

  it('drives faster on the highway and not at all in idle', () => {
    const hw = drive(1, 1800, 'highway').samples.map((s) => s.speed);
    assert.ok(Math.max(...hw) > 80);
    const idle = drive(1, 600, 'idle').samples;
    assert.ok(idle.every((s) => s.speed === 0));
    assert.ok(idle.slice(10).every((s) => s.on && s.rpm > 700));
  });
});

describe('J1979 PID table', () => {
  it('finds PIDs by name or {mode, pid} and decodes per J1979', () => {
    assert.equal(findPid('rpm')?.pid, 0x0c);
    assert.equal(findPid({ mode: 1, pid: '0D' })?.name, 'SPEED');
    assert.equal(findPid({ pid: 5 })?.name, 'COOLANT_TEMP');
    assert.equal(findPid('NOPE'), undefined);
    const dec = (name: string, bytes: number[]) => PIDS.find((p) => p.name === name)!.decode(bytes);
    assert.equal(dec('RPM', [0x1a, 0xf8]), 1726);
    assert.equal(dec('SPEED', [0x3c]), 60);
    assert.equal(dec('COOLANT_TEMP', [0x7b]), 83);
    assert.equal(dec('THROTTLE_POS', [0xff]), 100);
    assert.equal(dec('CONTROL_MODULE_VOLTAGE', [0x37, 0x3c]), 14.14);
    assert.equal(dec('MAF', [0x01, 0x2c]), 3);
  });
});
