import { closeSync } from 'node:fs';
import { type ClientInterface, connectBus, type MessageBus, onSignal } from '../dbus/connect.js';

const NAME = 'org.freedesktop.login1';
const PATH = '/org/freedesktop/login1';
const MANAGER = 'org.freedesktop.login1.Manager';

export type PowerAction = 'sleep' | 'hibernate' | 'shutdown';
/** logind's method for each action. */
const METHOD: Record<PowerAction, { call: string; can: string }> = {
  sleep: { call: 'Suspend', can: 'CanSuspend' },
  hibernate: { call: 'Hibernate', can: 'CanHibernate' },
  shutdown: { call: 'PowerOff', can: 'CanPowerOff' },
};

/** An inhibitor lock as logind lists it. */
export interface Inhibitor {
  what: string;
  who: string;
  why: string;
  mode: string;
}

/**
 * systemd-logind's Manager over D-Bus (`org.freedesktop.login1`): the power actions, the delay
 * inhibitor lock (`Inhibit("sleep:shutdown", …, "delay")`, held as the file descriptor logind
 * hands back: closing it releases the lock) and the `PrepareForSleep` / `PrepareForShutdown`
 * signals, never a shell command.
 */
export class Logind {
  private lock?: number;

  private constructor(
    private readonly bus: MessageBus,
    private readonly manager: ClientInterface,
  ) {}

  static async connect(address?: string): Promise<Logind> {
    const bus = await connectBus(address);
    try {
      const obj = await bus.getProxyObject(NAME, PATH);
      return new Logind(bus, obj.getInterface(MANAGER));
    } catch (e) {
      bus.disconnect();
      throw e;
    }
  }

  /** Takes the delay lock (once): sleep and shutdown wait until `release()` or logind's timeout. */
  async inhibit(why: string): Promise<void> {
    if (this.lock !== undefined) return;
    this.lock = (await this.manager.Inhibit!('sleep:shutdown', 'pitcrew', why, 'delay')) as number;
  }

  /** Releases the delay lock, if held: logind goes on with the sleep or shutdown. */
  release(): void {
    if (this.lock === undefined) return;
    closeSync(this.lock);
    this.lock = undefined;
  }

  get holding(): boolean {
    return this.lock !== undefined;
  }

  /** Whether logind would do it now: `yes`, `no`, `challenge`, `na`. */
  async can(action: PowerAction): Promise<string> {
    return (await this.manager[METHOD[action].can]!()) as string;
  }

  /** Asks logind to do it (not interactively: no password prompt on a unit). */
  async request(action: PowerAction): Promise<void> {
    await this.manager[METHOD[action].call]!(false);
  }

  async inhibitors(): Promise<Inhibitor[]> {
    const list = (await this.manager.ListInhibitors!()) as [string, string, string, string][];
    return list.map(([what, who, why, mode]) => ({ what, who, why, mode }));
  }

  /** `start`: true before a sleep (or shutdown), false after a wake. */
  onPrepare(fn: (kind: 'sleep' | 'shutdown', start: boolean) => void): Promise<void> {
    return onSignal(this.bus, { path: PATH, iface: MANAGER }, (member, [start]) => {
      if (member === 'PrepareForSleep') fn('sleep', start === true);
      else if (member === 'PrepareForShutdown') fn('shutdown', start === true);
    });
  }

  close(): void {
    this.release();
    this.bus.disconnect();
  }
}
