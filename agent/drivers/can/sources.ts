import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../core/clock.js';
import { errors, errorText } from '../../errors.js';
import { type LogEntry, parseCandump } from './candump.js';
import type { CanFrame } from './frame.js';
import { virtualBus } from './virtual-bus.js';

/** Where a `can` service's frames come from, and go to. */
export interface CanSource {
  start(deliver: (f: CanFrame) => void): Promise<void>;
  stop(): Promise<void>;
  send(f: CanFrame): void;
  status(): Record<string, unknown>;
}

/** Frames delivered in one turn of a replay before it lets the event loop breathe. */
const REPLAY_BURST = 500;

/**
 * A candump log played back on the agent's clock: frames keep their spacing (divided by
 * `speed`); a log with no times plays back to back. `loop` starts over at the end.
 */
export function replaySource(file: string, speed: number, loop: boolean, clock: Clock): CanSource {
  const entries: LogEntry[] = [];
  let skipped = 0;
  for (const line of readFileSync(file, 'latin1').split('\n')) {
    const e = parseCandump(line);
    if (e) entries.push(e);
    else if (line.trim()) skipped++;
  }
  let next = 0;
  let laps = 0;
  let t0 = 0;
  let timer: Timer | undefined;
  let state = 'stopped';
  const first = entries.find((e) => e.ts !== undefined)?.ts ?? 0;
  const due = (e: LogEntry) => t0 + ((e.ts ?? first) - first) * (1000 / speed);
  let deliver: (f: CanFrame) => void = () => {};
  const play = () => {
    const now = clock.now();
    for (let n = 0; next < entries.length && n < REPLAY_BURST && due(entries[next]!) <= now; n++)
      deliver(entries[next++]!.frame);
    if (next >= entries.length) {
      if (!loop || !entries.length) {
        state = 'finished';
        return;
      }
      laps++;
      next = 0;
      t0 = now;
    }
    timer = clock.setTimeout(play, Math.max(0, due(entries[next]!) - clock.now()));
  };
  return {
    async start(fn) {
      deliver = fn;
      state = 'playing';
      t0 = clock.now();
      play();
    },
    async stop() {
      timer?.cancel();
      state = 'stopped';
    },
    send() {
      throw errors.DRIVER_ERROR(`a replay source cannot send: it plays ${file}`);
    },
    status: () => ({
      source: 'replay',
      file,
      state,
      frames_in_log: entries.length,
      skipped_lines: skipped,
      position: next,
      laps,
    }),
  };
}

/** An in-process bus shared by name: `send` from one service reaches the others. */
export function virtualSource(name: string): CanSource {
  const bus = virtualBus(name);
  let detach: (() => void) | undefined;
  let listener: ((f: CanFrame) => void) | undefined;
  return {
    async start(deliver) {
      listener = deliver;
      detach = bus.attach(deliver);
    },
    async stop() {
      detach?.();
    },
    send(f) {
      bus.send(f, listener);
    },
    status: () => ({
      source: 'virtual',
      bus: name,
      state: detach ? 'attached' : 'stopped',
      peers: bus.size - 1,
    }),
  };
}

interface RawChannel {
  addListener(
    event: 'onMessage',
    fn: (m: { id: number; ext: boolean; rtr: boolean; data: Buffer; err?: boolean }) => void,
  ): void;
  setErrorFilters(mask: number): void;
  start(): void;
  stop(): void;
  send(m: { id: number; ext: boolean; rtr: boolean; data: Buffer }): void;
  sendFD(m: { id: number; ext: boolean; rtr: boolean; data: Buffer }): void;
}

type Addon = { createRawChannelWithOptions(iface: string, o: object): RawChannel };

/** The optional native addon, or why it is not there. */
function socketcanAddon(): Addon | string {
  try {
    return createRequire(import.meta.url)('socketcan');
  } catch (e) {
    return errorText(e).split('\n')[0]!;
  }
}

/**
 * A SocketCAN interface through the optional `socketcan` addon. Without the addon (a system it
 * did not build on) the source says so in status and the log, and stays idle: nothing to retry.
 */
export function socketcanSource(
  iface: string,
  fd: boolean,
  log: Logger,
  load: () => Addon | string = socketcanAddon,
): CanSource {
  let channel: RawChannel | undefined;
  let unavailable: string | undefined;
  return {
    async start(deliver) {
      const addon = load();
      if (typeof addon === 'string') {
        unavailable = `SocketCAN is unavailable on this system: the socketcan addon did not load (${addon})`;
        log.warn(unavailable);
        return;
      }
      try {
        channel = addon.createRawChannelWithOptions(iface, { timestamps: false, non_block_send: true });
      } catch (e) {
        throw errors.DRIVER_ERROR(
          `cannot open CAN interface ${iface}: ${errorText(e)} (is it up? ip link set ${iface} up)`,
        );
      }
      channel.addListener('onMessage', (m) =>
        deliver({
          id: m.id,
          extended: m.ext,
          data: new Uint8Array(m.data),
          fd: m.data.length > 8,
          remote: m.rtr,
          error: m.err ?? false,
        }),
      );
      channel.setErrorFilters(0x1fffffff); // every error class: bus-off among them
      channel.start();
    },
    async stop() {
      channel?.stop();
      channel = undefined;
    },
    send(f) {
      if (!channel) throw errors.DRIVER_ERROR(unavailable ?? `CAN interface ${iface} is not open`);
      const m = { id: f.id, ext: f.extended, rtr: f.remote, data: Buffer.from(f.data) };
      if (f.fd) {
        if (!fd)
          throw errors.DRIVER_ERROR(`a ${f.data.length}-byte frame needs CAN FD: set fd: true on ${iface}`);
        channel.sendFD(m);
      } else channel.send(m);
    },
    status: () => ({
      source: 'socketcan',
      interface: iface,
      state: unavailable ? 'unavailable' : channel ? 'up' : 'stopped',
      ...(unavailable ? { error: unavailable } : {}),
    }),
  };
}
