import type { Logger } from 'pino';
import { requireOptional } from '../../core/optional-dependency.js';
import { errors, errorText } from '../errors.js';
import type { CanFrame } from './frame.js';
import { virtualBus } from './virtual-bus.js';

/** Where a `can` service's frames come from, and go to. */
export interface CanSource {
  start(deliver: (f: CanFrame) => void): Promise<void>;
  stop(): Promise<void>;
  send(f: CanFrame): void;
  status(): Record<string, unknown>;
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
const socketcanAddon = (): Addon | string => requireOptional<Addon>('socketcan');

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
        unavailable = `SocketCAN is unavailable on this system: ${addon}`;
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
