import { after } from 'node:test';
import { Bus, type Event } from '../../agent/core/bus.js';
import { realClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/logger.js';
import { SignalStore } from '../../agent/core/signals.js';
import type { DriverInstance, Result } from '../../agent/core/types.js';
import type { DriverDef } from '../../agent/drivers/types.js';

/**
 * A driver started on its own, on the real clock, its events recorded; stopped when the file ends.
 * `started` is its start; awaited unless `awaitStart` is false.
 */
export async function startDriver(
  def: DriverDef,
  settings: Record<string, unknown>,
  { awaitStart = true } = {},
) {
  const bus = new Bus(realClock);
  const events: Event[] = [];
  bus.on('#', (e) => events.push(e));
  const failures: Error[] = [];
  const signals = new SignalStore();
  const parsed = def.settings.parse(settings);
  const driver: DriverInstance = await def.create(parsed, {
    service: 'obd',
    bus,
    clock: realClock,
    log: silentLogger,
    baseDir: process.cwd(),
    dataDir: process.cwd(),
    fail: (e) => failures.push(e),
    signal: (type, value, ts) => signals.set('obd', type, value, ts),
    read: (path) => signals.byPath(path)?.value,
  });
  after(() => driver.stop());
  const started = driver.start();
  if (awaitStart) await started;
  /** A handler's one result (these drivers return one per call). */
  const call = async (handler: string, args: Record<string, unknown> = {}) =>
    (await driver.handlers[handler]!(args)) as Result;
  const tags = () => events.map((e) => e.tag);
  return { driver, events, tags, call, failures, signals, started };
}
