import { createReadStream } from 'node:fs';
import { Bus, type Event } from '../core/bus.js';
import { FakeClock } from '../core/clock.js';
import { MAX_LINE, readLines, TOO_LONG } from '../core/lines.js';
import { silentLogger } from '../core/logger.js';
import { SignalStore } from '../core/signals.js';
import { MemoryState } from '../core/state-store.js';
import { errors, errorText } from './errors.js';
import type { ReactorHost } from './host.js';
import { Reactor } from './reactor.js';
import type { RuleT } from './schema.js';
import type { Trace } from './traces.js';

const READING = /^vehicle\/([^/]+)\/([^/]+)$/;

export interface ReplayReport {
  events: number;
  rejected: { line: number; reason: string }[];
}

const notInDryRun = () => Promise.reject(errors.DRY_RUN());

/**
 * Dry run of a config's rules over recorded events (`{tag, data, ts}` per line): a fake clock
 * follows the events' timestamps, `emit` and `state` act (in memory), every other action is only
 * traced. Readings (`vehicle/<service>/<type>` with a `value`) update the signal store as the live
 * returners would.
 */
export async function replay(
  config: { rules: readonly RuleT[]; maxDepth: number; unit: { id: string; timezone?: string } },
  file: string,
  onTrace: (t: Trace) => void,
  /** Told every 1,024 events how far the file is read and the time the drive is at. */
  onProgress?: (read: number, events: number, ts: number) => void,
): Promise<ReplayReport> {
  const clock = new FakeClock(0);
  const host: ReactorHost = {
    bus: new Bus(clock),
    clock,
    log: silentLogger,
    signals: new SignalStore(),
    state: new MemoryState(),
    unit: config.unit,
    call: notInDryRun,
    worker: notInDryRun,
    returner: notInDryRun,
    publish: notInDryRun,
    startUpdate: () => {
      throw errors.DRY_RUN();
    },
  };
  const reactor = new Reactor(host, config.rules, { dry: true, maxDepth: config.maxDepth });
  reactor.onTrace(onTrace);
  const report: ReplayReport = { events: 0, rejected: [] };
  let started = false;
  let n = 0;
  const input = createReadStream(file, 'utf8');
  for await (const line of readLines(input)) {
    n++;
    if (line !== TOO_LONG && !line.trim()) continue;
    let event: Event;
    try {
      if (line === TOO_LONG) throw errors.REPLAY_LINE(`longer than ${MAX_LINE} characters`);
      event = parseEvent(JSON.parse(line.endsWith('\r') ? line.slice(0, -1) : line));
    } catch (e) {
      report.rejected.push({ line: n, reason: errorText(e) });
      continue;
    }
    if (!started) {
      await clock.advance(event.ts - clock.now());
      await reactor.start();
      started = true;
    }
    await clock.advance(Math.max(0, event.ts - clock.now()));
    const m = READING.exec(event.tag);
    if (m && 'value' in event.data) host.signals.set(m[1]!, m[2]!, event.data.value, event.ts);
    host.bus.dispatch(event);
    if (++report.events % 1024 === 0) onProgress?.(input.bytesRead, report.events, event.ts);
  }
  await clock.flush();
  await reactor.stop();
  return report;
}

function parseEvent(v: unknown): Event {
  const e = v as Partial<Event> | null;
  if (!e || typeof e !== 'object') throw errors.REPLAY_LINE('not a JSON object');
  if (typeof e.tag !== 'string' || !e.tag) throw errors.REPLAY_LINE("no 'tag'");
  if (typeof e.ts !== 'number' || !Number.isFinite(e.ts))
    throw errors.REPLAY_LINE("no numeric 'ts' (ms epoch)");
  const data = e.data ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) throw errors.REPLAY_LINE("'data' is not an object");
  return {
    tag: e.tag,
    data: data as Record<string, unknown>,
    ts: e.ts,
    source: typeof e.source === 'string' ? e.source : 'replay',
  };
}
