import * as z from 'zod';
import { Duration } from '../../../schemas/common.js';
import type { Timer } from '../../core/clock.js';
import { Reopener } from '../reopen.js';
import { defineDriver } from '../types.js';
import { ModemManagerClient, type ModemView, viewOf } from './modem-manager.js';

export const ModemSettings = z.strictObject({
  /** Which modem: `any` (the first ModemManager has), its index, or its object path. */
  modem: z
    .union([z.literal('any'), z.number().int().nonnegative(), z.string().startsWith('/')])
    .default('any'),
  /** The D-Bus address of ModemManager's bus; default: the system bus (`$DBUS_SYSTEM_BUS_ADDRESS`). */
  bus: z.string().min(1).optional(),
  /** Looked at again this often even without a change signal. */
  poll: Duration.default(30_000),
  reconnect: z
    .strictObject({ min: Duration.default(1000), max: Duration.default(60_000) })
    .default({ min: 1000, max: 60_000 }),
});

/** The view's fields set as `signals.<service>.<field>`. */
const SIGNALS = ['state', 'access', 'signal', 'operator', 'registered', 'connected'] as const;

/**
 * The cellular modem through ModemManager's D-Bus API (DESIGN §13): its state, access technology,
 * signal quality, operator, registration and bearer as `signals.<service>.*`, and
 * `vehicle/modem/{registered, lost, connected, disconnected, sim_missing}` on each change; `reset`
 * resets it. Without a bus or ModemManager, or without a modem, the status says so and it looks
 * again with a backoff.
 */
export const modem = defineDriver({
  name: 'modem',
  settings: ModemSettings,
  handlers: ['status', 'reset'],
  create(s, ctx) {
    let client: ModemManagerClient | undefined;
    let view: ModemView | undefined;
    let poll: Timer | undefined;
    let refreshing: Promise<void> | undefined;
    let again = false;

    const event = (what: string, data: Record<string, unknown> = {}) =>
      ctx.bus.emit(`vehicle/modem/${what}`, { service: ctx.service, ...data }, ctx.service);

    const pick = (paths: string[]) =>
      s.modem === 'any'
        ? paths[0]
        : typeof s.modem === 'number'
          ? paths[s.modem]
          : paths.find((p) => p === s.modem);

    /** A new view: signals set, and an event for each transition. */
    const apply = (next: ModemView | undefined) => {
      const was = view;
      view = next;
      const ts = ctx.clock.now();
      if (!next) {
        if (was?.registered) event('lost', { reason: 'the modem is gone' });
        if (was?.connected) event('disconnected', { reason: 'the modem is gone' });
        for (const k of ['registered', 'connected'] as const) ctx.signal(k, false, ts);
        ctx.signal('state', 'absent', ts);
        return;
      }
      for (const k of SIGNALS) ctx.signal(k, next[k], ts);
      const detail = { operator: next.operator, access: next.access, signal: next.signal };
      if (next.registered && !was?.registered) event('registered', { ...detail, roaming: next.roaming });
      if (!next.registered && was?.registered) event('lost', { ...detail, state: next.state });
      if (next.connected && !was?.connected) event('connected', detail);
      if (!next.connected && was?.connected) event('disconnected', { ...detail, state: next.state });
      if (!next.sim && (was === undefined || was.sim)) event('sim_missing', { state: next.state });
    };

    /** Reads everything again; changes that come meanwhile ask for one more read after it. */
    const refresh = (): Promise<void> => {
      if (refreshing) {
        again = true;
        return refreshing;
      }
      refreshing = (async () => {
        do {
          again = false;
          const objects = await client!.objects();
          const path = pick(ModemManagerClient.modems(objects));
          apply(path ? viewOf(path, objects) : undefined);
          reopen.state = path ? 'open' : 'no modem';
        } while (again && reopen.running);
      })()
        .catch((e) => fail(e))
        .finally(() => {
          refreshing = undefined;
        });
      return refreshing;
    };

    const fail = (e: unknown) => {
      client?.close();
      client = undefined;
      poll?.cancel();
      reopen.failed(e);
    };

    const tick = () => {
      poll = ctx.clock.setTimeout(() => {
        void refresh();
        tick();
      }, s.poll);
    };

    const open = async (): Promise<void> => {
      if (!reopen.running) return;
      try {
        client = await ModemManagerClient.connect(s.bus, () => void refresh());
        reopen.opened();
        reopen.working();
        await refresh();
        tick();
      } catch (e) {
        fail(e);
      }
    };
    const reopen = new Reopener({
      what: 'modem',
      clock: ctx.clock,
      log: ctx.log,
      ...s.reconnect,
      open,
    });

    return {
      handlers: {
        status: async () => {
          if (!view) throw new Error(`no modem (${reopen.lastError ?? reopen.state})`);
          return { type: 'status', value: view, ts: ctx.clock.now() };
        },
        reset: async () => {
          if (!client || !view) throw new Error(`no modem to reset (${reopen.lastError ?? reopen.state})`);
          await client.call(view.path, 'Reset');
          return { type: 'reset', value: true, ts: ctx.clock.now() };
        },
      },
      start: async () => reopen.start(),
      stop: async () => {
        reopen.stop();
        poll?.cancel();
        client?.close();
      },
      status: () => ({ state: reopen.state, last_error: reopen.lastError, ...(view ?? {}) }),
    };
  },
});
