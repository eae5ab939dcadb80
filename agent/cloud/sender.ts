import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Clock, Timer } from '../core/clock.js';
import { errorText } from '../core/errors.js';
import type { Outbox, Row } from './outbox.js';

/** zlib is loaded by the first gzip batch, not with every start (4 ms of a unit's start); kept from then on. */
let gzipOnce: ((data: string) => Promise<Buffer>) | undefined;
function gzipAsync(data: string): Promise<Buffer> {
  gzipOnce ??= promisify(process.getBuiltinModule('node:zlib').gzip);
  return gzipOnce(data);
}

/** Batches published and not yet acknowledged at once: enough to keep a round trip from idling the link. */
const WINDOW = 4;

/** What the sender needs of the link. */
export interface Publisher {
  readonly connected: boolean;
  topic(rel: string): string;
  publish(
    topic: string,
    payload: string | Buffer,
    opts: { qos: 0 | 1 | 2; retain?: boolean; contentType?: string },
  ): Promise<void>;
}

export interface BatchSettings {
  unit: string;
  maxRecords: number;
  maxBytes: number;
  maxWait: number;
  gzip: boolean;
}

/**
 * Drains the outbox while the link is up (DESIGN §6): data records in batches of up to
 * `maxRecords` / `maxBytes`, or fewer once the oldest has waited `maxWait`, as
 * `{unit, batch, records}` (gzip when configured) at QoS 1; a `publish` message alone, on its topic.
 * Rows leave the outbox only on PUBACK. After a disconnect everything not acknowledged is sent
 * again (the cloud drops duplicates by record id).
 */
export class OutboxSender {
  private cursor = 0;
  private inflight = 0;
  /** Bumped on each (re)connect: acknowledgements still count, but an old connection's failures do not. */
  private epoch = 0;
  private waitTimer?: Timer;
  private waitingSince?: number;
  private pumping = false;
  /** Settles once the latest publish has been handed to the link. */
  private issued: Promise<void> = Promise.resolve();
  sent = 0;
  lastError?: string;

  constructor(
    private readonly outbox: Outbox,
    private readonly link: Publisher,
    private readonly clock: Clock,
    private readonly settings: BatchSettings,
  ) {}

  /** The link (re)connected: start over from the oldest record not acknowledged. */
  connected(): void {
    this.restart();
    this.wake();
  }

  /** What is in flight no longer counts: the next send starts at the oldest unacknowledged record. */
  private restart(): void {
    this.epoch++;
    this.cursor = 0;
    this.inflight = 0;
  }

  private wakeIn(ms: number): void {
    this.waitTimer?.cancel();
    this.waitTimer = this.clock.setTimeout(() => {
      this.waitTimer = undefined;
      this.wake();
    }, ms);
  }

  stop(): void {
    this.epoch++;
    this.waitTimer?.cancel();
    this.waitTimer = undefined;
  }

  /** New records, an acknowledgement or a connect: send what can be sent. */
  wake(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.link.connected && this.inflight < WINDOW && this.sendNext());
    } finally {
      this.pumping = false;
    }
  }

  /** Sends one batch or message; false when there is nothing (yet) to send. */
  private sendNext(): boolean {
    const rows = this.outbox.read(this.cursor, this.settings.maxRecords + 1);
    if (rows.length === 0) return false;
    const first = rows[0]!;
    if (first.topic !== null) {
      this.dispatch(
        [first],
        this.link.publish(first.topic, first.record, { qos: first.qos, retain: first.retain }),
      );
      return true;
    }
    let bytes = 0;
    let n = 0;
    while (n < rows.length && n < this.settings.maxRecords && rows[n]!.topic === null) {
      if (n > 0 && bytes + rows[n]!.size > this.settings.maxBytes) break;
      bytes += rows[n]!.size;
      n++;
    }
    // A batch that could take more records waits for them, up to max_wait.
    if (n === rows.length && n < this.settings.maxRecords && !this.waited()) return false;
    this.waitingSince = undefined;
    const batch = rows.slice(0, n);
    this.dispatch(batch, this.publishBatch(batch));
    return true;
  }

  /** Whether the records waiting have waited `maxWait`; arms the timer that sends them when not. */
  private waited(): boolean {
    const now = this.clock.now();
    this.waitingSince ??= now;
    const left = this.waitingSince + this.settings.maxWait - now;
    if (left <= 0) return true;
    if (!this.waitTimer) this.wakeIn(left);
    return false;
  }

  private publishBatch(rows: Row[]): Promise<void> {
    let json = `{"unit":${JSON.stringify(this.settings.unit)},"batch":"${randomUUID()}","records":[`;
    for (let i = 0; i < rows.length; i++) json += i ? `,${rows[i]!.record}` : rows[i]!.record;
    json += ']}';
    return this.inOrder(this.settings.gzip ? gzipAsync(json) : json, this.link.topic('data'), {
      qos: 1,
      contentType: this.settings.gzip ? 'application/gzip' : 'application/json',
    });
  }

  /**
   * Publishes once every earlier publish has been handed to the link: batches compress in parallel
   * (zlib's threads) but go out in the outbox's order. Resolves on the broker's acknowledgement.
   */
  private inOrder(
    payload: Promise<Buffer> | string,
    topic: string,
    opts: { qos: 0 | 1 | 2; retain?: boolean; contentType?: string },
  ): Promise<void> {
    const prev = this.issued;
    let issued!: () => void;
    this.issued = new Promise<void>((r) => {
      issued = r;
    });
    return (async () => {
      try {
        const body = await payload;
        await prev;
        const acked = this.link.publish(topic, body, opts);
        issued();
        await acked;
      } finally {
        issued();
      }
    })();
  }

  private dispatch(rows: Row[], published: Promise<void>): void {
    const epoch = this.epoch;
    this.cursor = rows[rows.length - 1]!.seq;
    this.inflight++;
    published.then(
      () => {
        this.outbox.ack(rows[0]!.seq, rows[rows.length - 1]!.seq);
        this.sent += rows.length;
        if (epoch !== this.epoch) return;
        this.inflight--;
        this.wake();
      },
      (e) => {
        if (epoch !== this.epoch) return;
        // Not sent: everything from the oldest unacknowledged record goes again, after a pause.
        this.lastError = errorText(e);
        this.restart();
        this.wakeIn(1000);
      },
    );
  }
}
