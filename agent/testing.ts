/**
 * The SDK's test helper (`import { serviceHarness } from 'pitcrew/testing'`): a module service
 * created as the agent would, on a fake clock and a real bus, its events and signals recorded.
 */
import { Bus, type Event } from './core/bus.js';
import { FakeClock } from './core/clock.js';
import { silentLogger } from './core/logger.js';
import { SignalStore } from './core/signals.js';
import type { Result } from './core/types.js';
import type { ServiceDefinition, ServiceInstance } from './sdk.js';

export { FakeClock };

export async function serviceHarness(
  def: ServiceDefinition,
  settings: Record<string, unknown> = {},
  opts: { service?: string; clock?: FakeClock } = {},
) {
  const clock = opts.clock ?? new FakeClock();
  const service = opts.service ?? 'test';
  const bus = new Bus(clock);
  const events: Event[] = [];
  bus.on('#', (e) => events.push(e));
  const signals = new SignalStore();
  const failures: Error[] = [];
  const checked = def.settings ? def.settings.parse(settings) : settings;
  const svc: ServiceInstance = await def.create(checked, {
    service,
    bus,
    clock,
    log: silentLogger,
    baseDir: process.cwd(),
    dataDir: process.cwd(),
    fail: (e) => failures.push(e),
    signal: (type, value, ts) => signals.set(service, type, value, ts),
    read: (path) => signals.byPath(path)?.value,
  });
  return {
    clock,
    bus,
    events,
    signals,
    failures,
    start: async () => svc.start?.(),
    stop: async () => svc.stop?.(),
    /** A handler's result, as a worker would get it. */
    call: async (handler: string, args: Record<string, unknown> = {}) => {
      const fn = svc.handlers?.[handler];
      if (!fn) throw new Error(`the service has no handler '${handler}'`);
      return (await fn(args)) as Result;
    },
  };
}
