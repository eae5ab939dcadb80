import type { Bus, HeldEvent, Listener } from './bus.js';

/** How a driver puts events on the bus. */
export interface EventSink {
  emit(tag: string, data?: Record<string, unknown>, source?: string): void;
  on(pattern: string, fn: Listener): () => void;
}

/** Events one source may dispatch in one turn of the event loop before the rest wait for the next. */
export const BURST = 1000;
/** Events one source may have waiting; past it new ones are dropped and counted. */
export const BACKLOG = 10_000;

/**
 * One source's way onto the bus. Events go straight through until the source emits more than
 * BURST in one turn of the event loop; then they queue (at most BACKLOG, the rest dropped and
 * counted) and are dispatched BURST per turn, so timers, the control socket and signals get
 * through between batches. A source that floods costs itself, not the agent.
 */
export class Inlet implements EventSink {
  private turn = 0;
  private queue: HeldEvent[] = [];
  private head = 0;
  private draining = false;
  dropped = 0;

  constructor(
    private readonly bus: Bus,
    private readonly onDrop: (dropped: number) => void = () => {},
  ) {}

  on(pattern: string, fn: Listener): () => void {
    return this.bus.on(pattern, fn);
  }

  emit(tag: string, data: Record<string, unknown> = {}, source = 'agent'): void {
    if (!this.draining && this.turn < BURST) {
      if (this.turn++ === 0) setImmediate(() => this.nextTurn());
      this.bus.emit(tag, data, source);
      return;
    }
    if (this.queue.length - this.head >= BACKLOG) {
      this.dropped++;
      this.onDrop(this.dropped);
      return;
    }
    this.queue.push({ tag, data, source });
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  private nextTurn(): void {
    this.turn = 0;
  }

  private drain(): void {
    const end = Math.min(this.head + BURST, this.queue.length);
    for (; this.head < end; this.head++) {
      const e = this.queue[this.head]!;
      this.bus.emit(e.tag, e.data, e.source);
    }
    if (this.head < this.queue.length) {
      setImmediate(() => this.drain());
      return;
    }
    this.queue = [];
    this.head = 0;
    this.draining = false;
  }
}
