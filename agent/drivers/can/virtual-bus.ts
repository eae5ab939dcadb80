import type { CanFrame } from './frame.js';

type Listener = (f: CanFrame) => void;

/** An in-process CAN bus: every frame sent reaches every other attachment, as on a wire. */
export class VirtualBus {
  private readonly attached = new Set<Listener>();

  attach(fn: Listener): () => void {
    this.attached.add(fn);
    return () => this.attached.delete(fn);
  }

  send(f: CanFrame, from?: Listener): void {
    for (const fn of this.attached) if (fn !== from) fn(f);
  }

  get size(): number {
    return this.attached.size;
  }
}

const BUSES = new Map<string, VirtualBus>();

/** The virtual bus of that name, shared by every service (and test) in the process. */
export function virtualBus(name: string): VirtualBus {
  let bus = BUSES.get(name);
  if (!bus) {
    bus = new VirtualBus();
    BUSES.set(name, bus);
  }
  return bus;
}
