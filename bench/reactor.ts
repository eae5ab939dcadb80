/**
 * The reactor on a vehicle's workload (bench/_workload.ts): event tags in random order, fresh data
 * per event, the signal store updated as the pipeline would, every condition shape, templated
 * emits, logs, throttled state writes on the SQLite store, about 5 rules matching each event, and
 * every rule live. Targets: ≥ 500,000 events/s with 1,000 rules, p99 of a whole dispatch < 1 ms,
 * ≥ 80 % of the rate kept from 100 to 10,000 rules (also with 1 % `re:` patterns).
 */
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Bus } from '../agent/core/bus.js';
import { realClock } from '../agent/core/clock.js';
import { LogSink } from '../agent/core/log-sink.js';
import { jsonLogger, messageWriter } from '../agent/core/logger.js';
import { type ParsedPattern, parsePattern } from '../agent/core/patterns.js';
import { SignalStore } from '../agent/core/signals.js';
import { StateStore } from '../agent/core/state-store.js';
import { compileTemplate } from '../agent/core/templates.js';
import { conditionFactory } from '../agent/reactor/condition.js';
import type { ReactorHost } from '../agent/reactor/host.js';
import { Reactor } from '../agent/reactor/reactor.js';
import { median, report } from './_report.js';
import { reading, rng, rules } from './_workload.js';

const EVENTS = 200_000;
const turn = () => new Promise(setImmediate);

/** The JIT settles on 20,000 events, the event loop turning as in the timed run. */
async function warmUp(one: (i: number) => void): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    one(i);
    if (i % 256 === 0) await turn();
  }
}

/**
 * The event stream: tags in a random order fixed per run, data new for every event, and the signal
 * writes the pipeline would make for it. `next(i)` gives event i's tag and data.
 */
function stream(signals: SignalStore, tags: string[]) {
  signals.set('obd', 'voltage', 12.6, Date.now());
  signals.set('gnss', 'position', { lat: 59.95, lon: 10.7 }, Date.now());
  const random = rng(42);
  const order = Array.from({ length: 4096 }, () => Math.floor(random() * tags.length));
  // The pipeline writes a reading under its service's name and its type, strings it has as they are.
  const names = tags.map((tag) => {
    const slash = tag.indexOf('/', 8);
    return [tag.slice(8, slash), tag.slice(slash + 1)] as const;
  });
  return (i: number) => {
    const t = order[i & 4095]!;
    const tag = tags[t]!;
    const data = reading(random, Date.now());
    signals.set(names[t]![0], names[t]![1], data.value, data.ts);
    signals.set('obd', 'speed', data.value, data.ts);
    return { tag, data };
  };
}

/** Whether a pattern matches a tag (for the floor's precomputed dispatch; its cost is not measured). */
function matches(p: ParsedPattern, tag: string): boolean {
  if (p.kind === 're') return p.re.test(tag);
  const parts = tag.split('/');
  return (
    p.segments.every((s, i) => s === '#' || s === '+' || s === parts[i]) &&
    (p.segments.at(-1) === '#' || p.segments.length === parts.length)
  );
}

/** Logs as the agent writes them, through its own logger and sink, to /dev/null; `close` once they are written. */
function devNullLog() {
  const fd = openSync('/dev/null', 'w');
  const sink = new LogSink(fd);
  const close = async () => {
    await sink.settled();
    closeSync(fd);
  };
  return { sink, log: jsonLogger('info', sink), close };
}

/**
 * What the floor adds of the reactor's own work, each measured as a floor of its own so the run
 * shows where the reactor's time goes: `logs`, the log lines of the rules that log on every run
 * (throttle 0), written as the log action writes them; `bus`, each emitted event dispatched on a
 * bus to its consumer, as the emit action's events are.
 */
interface Stages {
  logs?: boolean;
  bus?: boolean;
}

/**
 * The floor (what no reactor can beat in this process): a bare loop doing only the matched
 * conditions and emits. Each tag's rules found once beforehand; per event the same signal writes as
 * the reactor's run, the same compiled conditions on the same data, and for each rule that holds
 * its emits' data rendered from the same templates and consumed. No bus, traces, throttles, run
 * modes, logs or state writes, but for the `stages` asked for.
 */
async function floor(n: number, stages: Stages = {}): Promise<number> {
  const signals = new SignalStore();
  const unit = { id: 'bench', timezone: 'Europe/Oslo' };
  const condition = conditionFactory({ signals, clock: realClock, unit });
  const state = { tree: { parked: false, mode: 'eco' } };
  const { sink, log, close } = devNullLog();
  const bus = new Bus(realClock);
  let consumed = 0;
  bus.on('out/#', (e) => {
    consumed += e.data.value as number;
  });
  const { rules: set, tags } = rules(n);
  const compiled = set.map((r) => ({
    on: r.on.map(parsePattern),
    when: r.when === undefined ? undefined : condition(r.when),
    emits: r.do.flatMap((a) =>
      'emit' in a ? [{ tag: a.emit.tag, data: compileTemplate(a.emit.data ?? null) }] : [],
    ),
    logs:
      stages.logs && r.throttle === 0
        ? r.do.flatMap((a) => {
            if (!('log' in a)) return [];
            const write = messageWriter(log.child({ source: `rule:${r.name}` }), a.log.level);
            const message = compileTemplate(a.log.message);
            return [(run: unknown) => write(String(message(run)))];
          })
        : [],
  }));
  const byTag = new Map(tags.map((t) => [t, compiled.filter((r) => r.on.some((p) => matches(p, t)))]));
  const next = stream(signals, tags);
  const one = (i: number) => {
    const { tag, data } = next(i);
    const now = Date.now();
    const run = {
      event: { tag, data, ts: now, source: 'bench' },
      signals: signals.tree,
      state: state.tree,
      unit,
      now,
    };
    for (const r of byTag.get(tag)!) {
      if (r.when && !r.when(run)) continue;
      for (const e of r.emits) {
        const data = e.data(run) as { value: number };
        if (stages.bus) bus.emit(e.tag, data, 'bench');
        else {
          // The event an emit builds, read as the reactor's consumer reads it.
          const out = { tag: e.tag, data, ts: now, source: 'bench' };
          consumed += out.data.value;
        }
      }
      for (const write of r.logs) write(run);
    }
  };
  await warmUp(one);
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    if (i % 256 === 0) await turn(); // as the reactor's run: the same turns of the event loop
    one(i);
  }
  const rate = EVENTS / ((performance.now() - t0) / 1000);
  if (sink.dropped > 0) throw new Error(`${sink.dropped} log lines dropped: the floor outpaced its log`);
  await close();
  if (consumed < 0) console.log(consumed);
  return rate;
}

async function run(n: number, reShare = 0) {
  const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-bench-'));
  const state = new StateStore(dir);
  const signals = new SignalStore();
  const { sink, log, close } = devNullLog();
  const fail = () => Promise.reject(new Error('not in this benchmark'));
  const h: ReactorHost = {
    bus: new Bus(realClock),
    clock: realClock,
    // Logs are formatted and written by the agent's own logger, as on a unit (to /dev/null here).
    log,
    signals,
    state,
    unit: { id: 'bench', timezone: 'Europe/Oslo' },
    call: fail,
    worker: fail,
    returner: fail,
    publish: fail,
    startUpdate: () => {
      throw new Error('not in this benchmark');
    },
  };
  const { rules: set, tags } = rules(n, reShare);
  const reactor = new Reactor(h, set);
  await reactor.start();
  // Results are consumed: every emitted alert is read.
  let consumed = 0;
  h.bus.on('out/#', (e) => {
    consumed += e.data.value as number;
  });
  const next = stream(signals, tags);
  const one = (i: number) => {
    const { tag, data } = next(i);
    h.bus.emit(tag, data, 'bench');
  };
  await warmUp(one);
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    // The event loop turns as on a unit, where events arrive over time: log lines are written.
    if (i % 256 === 0) await turn();
    if (i % 64 === 0) {
      const s = performance.now();
      one(i);
      latencies.push(performance.now() - s);
    } else one(i);
  }
  const rate = EVENTS / ((performance.now() - t0) / 1000);
  if (sink.dropped > 0) throw new Error(`${sink.dropped} log lines dropped: the run outpaced its log`);
  await reactor.stop();
  await close();
  state.close();
  rmSync(dir, { recursive: true, force: true });
  if (consumed < 0) console.log(consumed);
  latencies.sort((x, y) => x - y);
  return { rate, p99: latencies[Math.floor(latencies.length * 0.99)]! };
}

const CASES: Record<string, [number, number]> = {
  main: [1000, 0],
  small: [100, 0],
  large: [10_000, 0],
  smallRe: [100, 0.01],
  largeRe: [10_000, 0.01],
};
const rates = new Map<string, number[]>();
const p99s: number[] = [];
/** The floors: at 100, 1,000 and 10,000 rules, at 1,000 with the reactor's log lines, then its bus too, and with both at 100 and 10,000. */
const FLOORS: Record<string, [number, Stages]> = {
  small: [100, {}],
  main: [1000, {}],
  large: [10_000, {}],
  logs: [1000, { logs: true }],
  logsBus: [1000, { logs: true, bus: true }],
  smallLogsBus: [100, { logs: true, bus: true }],
  largeLogsBus: [10_000, { logs: true, bus: true }],
};
const floors = new Map<string, number[]>();
for (const [n, re] of Object.values(CASES)) await run(n, re); // the JIT settles first
for (const [n, stages] of Object.values(FLOORS)) await floor(n, stages);
for (let round = 0; round < 3; round++) {
  for (const [name, [n, re]] of Object.entries(CASES)) {
    const r = await run(n, re);
    rates.set(name, [...(rates.get(name) ?? []), r.rate]);
    if (name === 'main') p99s.push(r.p99);
  }
  for (const [name, [n, stages]] of Object.entries(FLOORS))
    floors.set(name, [...(floors.get(name) ?? []), await floor(n, stages)]);
}
const rate = (name: string) => median(rates.get(name)!);
report(
  'reactor, 1,000 live rules, ~5 per event, realistic mix',
  rate('main') / 1000,
  'k events/s',
  500,
  'higher',
);
const floorOf = (name: string) => median(floors.get(name)!);
const k = (rate: number) => `${(rate / 1000).toFixed(0)}k`;
const share = (part: number, whole: number) => `${((part / whole) * 100).toFixed(0)} %`;
console.log(
  `the floor, 1,000 rules: a bare loop of the matched conditions and emits, same process: ${k(floorOf('main'))} events/s; ` +
    `the reactor runs at ${share(rate('main'), floorOf('main'))} of it`,
);
console.log(
  `the floor with the log lines the rules write on every run: ${k(floorOf('logs'))} events/s ` +
    `(${share(floorOf('logs'), floorOf('main'))} of the floor); with each emitted event dispatched on a bus too: ` +
    `${k(floorOf('logsBus'))} (${share(floorOf('logsBus'), floorOf('main'))}); the reactor runs at ` +
    `${share(rate('main'), floorOf('logsBus'))} of that, the rest its own work (dispatch to rules, run modes, throttles, traces, causes)`,
);
console.log(
  `the floor, 10,000 rules vs 100: ${k(floorOf('large'))} vs ${k(floorOf('small'))} events/s, ` +
    `${share(floorOf('large'), floorOf('small'))} (the cost of rules cold in the cache, with nothing else); ` +
    `with the log lines and the bus: ${k(floorOf('largeLogsBus'))} vs ${k(floorOf('smallLogsBus'))}, ` +
    `${share(floorOf('largeLogsBus'), floorOf('smallLogsBus'))}`,
);
report('reactor p99 of a whole dispatch (1,000 rules)', median(p99s) * 1000, 'µs', 50, 'lower');
report(
  'reactor, 10,000 live rules vs 100',
  (rate('large') / rate('small')) * 100,
  '% of the rate',
  80,
  'higher',
);
report(
  'reactor, 10,000 live rules vs 100, 1 % re: patterns',
  (rate('largeRe') / rate('smallRe')) * 100,
  '% of the rate',
  80,
  'higher',
);
console.log(
  `rates: 100 rules ${(rate('small') / 1000).toFixed(0)}k/s, 10,000 rules ${(rate('large') / 1000).toFixed(0)}k/s; ` +
    `with 1 % re: ${(rate('smallRe') / 1000).toFixed(0)}k/s and ${(rate('largeRe') / 1000).toFixed(0)}k/s`,
);
