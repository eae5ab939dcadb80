import type { FleetTopics } from './topics.js';

type Item = Record<string, unknown>;
export type Ack = Record<string, unknown> & { status?: string };

/** What the broker says of one unit: its retained `online`, its status (whole, then deltas) and last acks. */
export interface UnitView {
  id: string;
  prefix: string;
  online?: boolean;
  /** When this command last heard from the unit (ms since the epoch). */
  seen?: number;
  status?: Record<string, Item[]>;
  /** The last acknowledgement of a bundle, of a desired status and of a git commit. */
  acks: { bundle?: Ack; desired?: Ack; git?: Ack };
}

/** The topics a unit leaves on the broker that the view reads. */
const LEAVES = ['online', 'status', 'ack'];

/** The fields that tell a status item from another of its section; the rest are its state. */
const IDENTITY = ['id', 'type', 'serviceId', 'subjectId', 'instance', 'digest', 'nodeId', 'name'];
const identity = (item: Item) => JSON.stringify(IDENTITY.map((k) => item[k]));
const isItem = (v: unknown): v is Item => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A value a unit sent, as it can be shown: a primitive as it is, anything else as its JSON (an
 * object of JSON may hide `toString`, and a template literal would throw on it).
 */
export function shown(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'object' ? JSON.stringify(v) : (v as string | number | boolean);
}

function parse(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The kind of an acknowledgement, as each sender shapes it. */
function ackKind(a: Ack): keyof UnitView['acks'] {
  if (a.messageType === 'desiredStatusAck') return 'desired';
  if (a.source === 'git') return 'git';
  return 'bundle';
}

/**
 * The fleet as the broker sees it (DESIGN §15), kept from the messages of every unit under the
 * filter: retained ones (online, the last whole status, the last acks) arrive right after the
 * subscription, live ones as they come.
 */
export class FleetView {
  readonly units = new Map<string, UnitView>();

  constructor(
    readonly topics: FleetTopics,
    private readonly now: () => number = Date.now,
  ) {}

  /** The subscriptions that feed the view. */
  filters(): string[] {
    return LEAVES.map((l) => this.topics.each(l));
  }

  unit(id: string): UnitView {
    let u = this.units.get(id);
    if (!u) {
      u = { id, prefix: this.topics.prefixOf(id), acks: {} };
      this.units.set(id, u);
    }
    return u;
  }

  /** Takes one message; returns the unit it changed and what it was, or undefined for anything else. */
  take(
    topic: string,
    payload: Buffer,
    retained = false,
  ): { unit: UnitView; leaf: string; ack?: Ack } | undefined {
    const at = this.topics.unitOf(topic);
    if (!at || !LEAVES.includes(at.leaf)) return undefined;
    const u = this.unit(at.id);
    if (!retained) u.seen = this.now();
    if (at.leaf === 'online') {
      u.online = payload.toString('utf8') === 'true';
      return { unit: u, leaf: 'online' };
    }
    const msg = parse(payload);
    if (!msg || typeof msg !== 'object') return undefined;
    if (at.leaf === 'status') {
      this.status(u, msg as Record<string, unknown>);
      return { unit: u, leaf: 'status' };
    }
    const ack = msg as Ack;
    u.acks[ackKind(ack)] = ack;
    return { unit: u, leaf: 'ack', ack };
  }

  /**
   * A whole status replaces what was known; a delta updates its items. What a unit sends is not
   * trusted to be well formed: only lists of objects are taken, and a section named `__proto__` is
   * a section like any other (no prototype to set).
   */
  private status(u: UnitView, msg: Record<string, unknown>): void {
    const whole = msg.isDeltaInfo === false || !u.status;
    const next: Record<string, Item[]> = Object.assign(Object.create(null), whole ? {} : u.status);
    for (const [section, list] of Object.entries(msg)) {
      if (!Array.isArray(list)) continue;
      const taken = list.filter(isItem);
      if (whole) {
        next[section] = taken;
        continue;
      }
      const items = new Map((next[section] ?? []).map((i) => [identity(i), i]));
      for (const item of taken) items.set(identity(item), { ...items.get(identity(item)), ...item });
      next[section] = [...items.values()];
    }
    u.status = next;
  }
}

/** One unit as `fleet status` shows it and `--select` sees it. */
export function summary(u: UnitView): Record<string, unknown> {
  const config = u.status?.config?.[0];
  const updates: Record<string, number> = {};
  for (const section of ['components', 'services', 'layers'])
    for (const item of u.status?.[section] ?? []) {
      const s = String(shown(item.status) ?? '?');
      updates[s] = (updates[s] ?? 0) + 1;
    }
  const bundleAck = u.acks.bundle;
  // The whole status is retained from the last connect and the ack from the last bundle: the newer says.
  const applied =
    bundleAck?.status === 'applied' && typeof bundleAck.version === 'number' ? bundleAck.version : -1;
  const bundle = Math.max(applied, typeof config?.bundle === 'number' ? config.bundle : -1);
  return {
    unit: u.id,
    online: u.online ?? null,
    config: shown(config?.version),
    bundle: bundle >= 0 ? bundle : null,
    config_status: shown(config?.status),
    updates,
    last_ack: bundleAck ? { version: shown(bundleAck.version), status: shown(bundleAck.status) } : null,
    desired: u.acks.desired
      ? { sequence: shown(u.acks.desired.sequence), status: shown(u.acks.desired.status) }
      : null,
    seen: u.seen ?? null,
    status: u.status ?? null,
  };
}
