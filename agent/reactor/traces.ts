/** One action of a run (DESIGN §12). `dry`: a dry run only recorded it. */
export interface ActionTrace {
  action: string;
  ok: boolean;
  ms: number;
  error?: string;
  dry?: true;
}

/** One matched event for one rule (DESIGN §12 "Trace line"). */
export interface Trace {
  rule: string;
  ts: number;
  event: { tag: string; ts: number };
  condition: boolean;
  skipped?: 'throttle' | 'mode' | 'disabled';
  actions: ActionTrace[];
  error?: string;
}

export const TRACES_PER_RULE = 20;

/** The last runs of one rule, newest last. */
export class TraceRing {
  private readonly items: Trace[] = [];

  push(t: Trace): void {
    this.items.push(t);
    if (this.items.length > TRACES_PER_RULE) this.items.shift();
  }

  list(): Trace[] {
    return [...this.items];
  }

  get last(): Trace | undefined {
    return this.items.at(-1);
  }
}
