import { createReadStream } from 'node:fs';
import type { Clock, Timer } from '../../core/clock.js';
import { readLines, TOO_LONG } from '../../core/lines.js';
import { errors } from '../errors.js';
import { type LogEntry, parseCandump } from './candump.js';
import type { CanFrame } from './frame.js';
import type { CanSource } from './sources.js';

/** Frames delivered in one turn of a replay before it lets the event loop breathe. */
const REPLAY_BURST = 500;
/** Entries read ahead of playback: the memory a replay holds, whatever the log's size. */
const LOOKAHEAD = 512;
/** A candump line is under 300 characters; a longer one is junk, skipped without being held. */
const MAX_LINE = 4096;

/** Where one pass over the log ends and the next begins (`loop`). */
const LAP = Symbol('lap');
type Item = LogEntry | typeof LAP;

/**
 * A candump log read as a stream, a bounded window ahead of playback: bad lines (not a frame,
 * too long, a time that is not a time) are skipped and counted. With `loop` it reads the file
 * again at its end, marking each new lap.
 */
class CandumpFeed {
  private readonly buf: Item[] = [];
  private lines?: AsyncGenerator<string | typeof TOO_LONG>;
  private reading?: Promise<void>;
  private count = 0;
  private ended = false;
  skipped = 0;
  /** Frames in one pass of the log, once one pass has been read. */
  framesInLog?: number;

  constructor(
    private readonly file: string,
    private readonly loop: boolean,
  ) {}

  get done(): boolean {
    return this.ended && this.buf.length === 0;
  }

  peek(): Item | undefined {
    return this.buf[0];
  }

  shift(): void {
    this.buf.shift();
  }

  /** Whether the window has room to read more into. */
  get low(): boolean {
    return !this.ended && this.buf.length < LOOKAHEAD / 2;
  }

  /** Reads until the window is full or the log (without loop) has ended. */
  fill(): Promise<void> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    while (this.buf.length < LOOKAHEAD && !this.ended) {
      this.lines ??= readLines(createReadStream(this.file, { encoding: 'latin1' }), MAX_LINE);
      const r = await this.lines.next();
      if (r.done) {
        this.lines = undefined;
        this.framesInLog ??= this.count;
        // A log with no frame at all would loop without end.
        if (!this.loop || this.count === 0) this.ended = true;
        else this.buf.push(LAP);
        continue;
      }
      const e = r.value === TOO_LONG ? undefined : parseCandump(r.value);
      if (e) {
        this.buf.push(e);
        if (this.framesInLog === undefined) this.count++;
      } else if (r.value === TOO_LONG || r.value.trim()) this.skipped++;
    }
  }

  close(): void {
    void this.lines?.return(undefined);
    this.lines = undefined;
    this.ended = true;
    this.buf.length = 0;
  }
}

/**
 * A candump log played back on the agent's clock: frames keep their spacing (divided by
 * `speed`); a log with no times plays back to back. `loop` starts over at the end. The log is
 * streamed: memory does not grow with its size.
 */
export function replaySource(file: string, speed: number, loop: boolean, clock: Clock): CanSource {
  const feed = new CandumpFeed(file, loop);
  let position = 0;
  let laps = 0;
  let t0 = 0;
  let first: number | undefined;
  let timer: Timer | undefined;
  let state = 'stopped';
  let deliver: (f: CanFrame) => void = () => {};
  const due = (e: LogEntry) => {
    first ??= e.ts;
    return t0 + ((e.ts ?? first ?? 0) - (first ?? 0)) * (1000 / speed);
  };
  const play = () => {
    if (state !== 'playing') return;
    const now = clock.now();
    let n = 0;
    for (let e = feed.peek(); e !== undefined && n < REPLAY_BURST; e = feed.peek()) {
      if (e === LAP) {
        laps++;
        position = 0;
        t0 = now;
        first = undefined;
      } else if (due(e) > now) break;
      else {
        position++;
        n++;
        deliver(e.frame);
      }
      feed.shift();
    }
    const next = feed.peek();
    if (next === undefined) {
      if (feed.done) state = 'finished';
      // The window ran dry: play on as soon as more is read.
      else void feed.fill().then(play);
      return;
    }
    if (feed.low) void feed.fill();
    const wait = n >= REPLAY_BURST || next === LAP ? 0 : Math.max(0, due(next) - clock.now());
    timer = clock.setTimeout(play, wait);
  };
  return {
    async start(fn) {
      deliver = fn;
      state = 'playing';
      t0 = clock.now();
      await feed.fill();
      play();
    },
    async stop() {
      timer?.cancel();
      state = 'stopped';
      feed.close();
    },
    send() {
      throw errors.DRIVER_ERROR(`a replay source cannot send: it plays ${file}`);
    },
    status: () => ({
      source: 'replay',
      file,
      state,
      frames_in_log: feed.framesInLog ?? null,
      skipped_lines: feed.skipped,
      position,
      laps,
    }),
  };
}
