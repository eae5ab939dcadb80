import { sameJson } from './same-json.js';

/** One reading as stored: its value, when it was read, and when it last changed. */
export interface SignalMeta {
  value: unknown;
  ts: number;
  changedAt: number;
  unit?: string;
}

/** The store's key for a dotted path: `obd.rpm`, with or without a leading `signals.`. */
const keyOf = (path: string) => (path.startsWith('signals.') ? path.slice(8) : path);

/**
 * Latest value of every reading, as `signals.<service>.<type>`. `tree` is the plain nested object
 * rules and filters read (`signals.obd.rpm`, `signals.gnss.position.lat`).
 */
export class SignalStore {
  readonly tree: Record<string, Record<string, unknown>> = {};
  private readonly meta = new Map<string, SignalMeta>();
  /**
   * The same readings by service, then type, with the service's node of `tree`: a reading finds its
   * own, and its place in the tree, without building a key or looking the service up twice.
   */
  private readonly byService = new Map<
    string,
    { types: Map<string, SignalMeta>; node: Record<string, unknown> }
  >();
  private readonly watchers = new Set<() => void>();

  set(service: string, type: string, value: unknown, ts: number, unit?: string): void {
    let svc = this.byService.get(service);
    if (svc === undefined) {
      const node: Record<string, unknown> = {};
      this.tree[service] = node;
      svc = { types: new Map(), node };
      this.byService.set(service, svc);
    }
    const types = svc.types;
    const prev = types.get(type);
    let changed = true;
    if (prev) {
      // Updated in place: a reading costs no allocation once its signal exists.
      changed = !sameJson(prev.value, value);
      if (changed) prev.changedAt = ts;
      prev.value = value;
      prev.ts = ts;
      prev.unit = unit;
    } else {
      const meta = { value, ts, changedAt: ts, unit };
      types.set(type, meta);
      this.meta.set(`${service}.${type}`, meta);
    }
    svc.node[type] = value;
    if (changed && this.watchers.size) for (const w of this.watchers) w();
  }

  /** Calls `fn` after each change of any value, until the returned function is called. */
  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  get(service: string, type: string): SignalMeta | undefined {
    return this.byService.get(service)?.types.get(type);
  }

  /** A reading by dotted path, `obd.rpm` (a leading `signals.` is allowed). */
  byPath(path: string): SignalMeta | undefined {
    return this.meta.get(keyOf(path));
  }

  /** When the signal at a path known in advance last changed: the path is resolved once. */
  reader(path: string): () => number | undefined {
    const key = keyOf(path);
    return () => this.meta.get(key)?.changedAt;
  }

  entries(): [string, SignalMeta][] {
    return [...this.meta.entries()];
  }
}
