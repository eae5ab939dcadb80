import type { UnitStatusT } from '../../schemas/wire.js';
import type { Clock, Timer } from '../core/clock.js';
import { sameJson } from '../core/same-json.js';

/** The unit status's item lists (DESIGN §5, Aos's sections and the agent's own), each keyed by the item's identity. */
export type Section =
  | 'unitConfig'
  | 'nodes'
  | 'components'
  | 'layers'
  | 'services'
  | 'instances'
  | 'agent'
  | 'config';
const SECTIONS: readonly Section[] = [
  'unitConfig',
  'nodes',
  'components',
  'layers',
  'services',
  'instances',
  'agent',
  'config',
];

type Item = Record<string, unknown>;

/**
 * Keeps the unit status and sends it (DESIGN §5): a change is upsert-merged into a pending delta
 * by item key; the first change arms a one-shot timer of `window`, and when it fires one delta
 * message goes out with only what changed. Right after each (re)connect a full status goes out.
 * While offline nothing is sent and pending deltas are let go: the full status on reconnect covers
 * them.
 */
export class StatusAggregator {
  private readonly items = new Map<Section, Map<string, Item>>(SECTIONS.map((s) => [s, new Map()]));
  private readonly delta = new Map<Section, Map<string, Item>>(SECTIONS.map((s) => [s, new Map()]));
  private timer?: Timer;
  private online = false;

  constructor(
    private readonly clock: Clock,
    private readonly window: number,
    private readonly send: (msg: UnitStatusT) => void,
  ) {}

  /** Upserts an item: its fields merged over what it had. Unchanged items cost nothing. */
  update(section: Section, key: string, fields: Item): void {
    const all = this.items.get(section)!;
    const had = all.get(key);
    const merged = had ? { ...had, ...fields } : fields;
    if (had && sameJson(had, merged)) return;
    all.set(key, merged);
    const pending = this.delta.get(section)!;
    pending.set(key, { ...pending.get(key), ...merged });
    if (!this.timer && this.online) this.timer = this.clock.setTimeout(() => this.flush(), this.window);
  }

  /**
   * An item that is gone (a stopped instance): left out of the full status from now on. Its last
   * fields, already sent or pending, stay in the delta, which has no way to say "removed".
   */
  drop(section: Section, key: string): void {
    this.items.get(section)!.delete(key);
  }

  /** The link is up: the full status goes out now, and deltas from here on. */
  connected(): void {
    this.online = true;
    this.clearDelta();
    this.send(this.message(false, this.items));
  }

  /** The link is down, or the agent stops: nothing is sent until the next connect. */
  disconnected(): void {
    this.online = false;
    this.clearDelta();
  }

  private clearDelta(): void {
    this.timer?.cancel();
    this.timer = undefined;
    for (const m of this.delta.values()) m.clear();
  }

  private flush(): void {
    this.timer = undefined;
    if (!this.online) return;
    const msg = this.message(true, this.delta);
    for (const m of this.delta.values()) m.clear();
    this.send(msg);
  }

  private message(isDeltaInfo: boolean, from: Map<Section, Map<string, Item>>): UnitStatusT {
    const msg: Record<string, unknown> = { messageType: 'unitStatus', isDeltaInfo };
    for (const s of SECTIONS) {
      const list = [...from.get(s)!.values()];
      if (list.length || !isDeltaInfo) msg[s] = list;
    }
    // Subjects are an Aos identity feature this unit has none of: an empty list, as Aos's full status always has one.
    if (!isDeltaInfo) msg.unitSubjects = [];
    // Items are built by their owners from the same schema's fields; the wire test checks the whole.
    return msg as UnitStatusT;
  }
}
