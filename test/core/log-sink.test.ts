import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { describe, it } from 'node:test';
import { LogSink } from '../../agent/core/log-sink.js';
import { tmpDir } from '../helpers/tmp.js';

/** A real pipe (a FIFO): the sink's end never blocks, the test reads when it chooses. */
function pipe(): { w: number; r: number; close: () => void } {
  const fifo = path.join(tmpDir(), 'log.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const w = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  const r = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  return {
    w,
    r,
    close: () => {
      closeSync(w);
      closeSync(r);
    },
  };
}

/** Per pipe: a character split between two reads is decoded whole. */
const decoders = new Map<number, StringDecoder>();

/** What the pipe holds now. */
function readNow(fd: number): string {
  const buf = Buffer.alloc(1 << 16);
  const decoder = decoders.get(fd) ?? decoders.set(fd, new StringDecoder('utf8')).get(fd)!;
  let out = '';
  for (;;) {
    try {
      const n = readSync(fd, buf);
      if (n === 0) return out;
      out += decoder.write(buf.subarray(0, n));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return out;
      throw e;
    }
  }
}

/** Reads until `want` bytes came, turning the event loop between reads so the sink writes on. */
async function readUntil(fd: number, want: number): Promise<string> {
  let got = readNow(fd);
  while (Buffer.byteLength(got) < want) {
    await new Promise((r) => setTimeout(r, 2));
    got += readNow(fd);
  }
  return got;
}

/** Fills the pipe as someone else's writes would, until it is full (EAGAIN); how many bytes that took. */
function fill(fd: number): number {
  let bytes = 0;
  try {
    for (;;) bytes += writeSync(fd, Buffer.alloc(4096, 'f'));
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'EAGAIN');
  }
  return bytes;
}

/** Until the sink's write under way has come back (on a full pipe: EAGAIN, a retry waiting). */
async function firstWriteBack(sink: LogSink): Promise<void> {
  const state = sink as unknown as { inFlight: boolean };
  while (state.inFlight) await new Promise((r) => setTimeout(r, 2));
}

const line = (i: number) => `${String(i).padStart(6, '0')} ${'x'.repeat(92)}\n`; // 100 bytes

describe('LogSink', () => {
  it('keeps lines for a slow reader up to 1 MiB, in order, drops and counts the rest, and writes on once read', async () => {
    const p = pipe();
    const sink = new LogSink(p.w);
    for (let i = 0; i < 20_000; i++) sink.write(line(i));
    // 10,485 lines of 100 bytes fit in 1 MiB; what came after them was dropped.
    assert.equal(sink.dropped, 20_000 - 10_485);
    const kept = Array.from({ length: 10_485 }, (_, i) => line(i)).join('');
    assert.equal(await readUntil(p.r, kept.length), kept);
    // The backlog is empty again: a new line is taken, not dropped.
    sink.write('after ✓\n');
    assert.equal(await readUntil(p.r, Buffer.byteLength('after ✓\n')), 'after ✓\n');
    assert.equal(sink.dropped, 20_000 - 10_485);
    sink.flushSync();
    p.close();
  });

  it('a line longer than its buffer, of characters of every width, comes through whole and in order', async () => {
    const p = pipe();
    const sink = new LogSink(p.w);
    const long = `${'aé✓𝄞'.repeat(30_000)}\n`; // 300,000 bytes
    // The first goes out at once; the second waits in the buffer the long one outgrows.
    const lines = ['first\n', 'second é\n', long, 'last ✓\n'];
    for (const l of lines) sink.write(l);
    const all = lines.join('');
    const got = await readUntil(p.r, Buffer.byteLength(all));
    // Compared whole, reported short: a diff of 300 kB says nothing.
    assert.ok(got === all, `${Buffer.byteLength(got)} bytes came, ${Buffer.byteLength(all)} were written`);
    assert.equal(sink.dropped, 0);
    sink.flushSync();
    p.close();
  });

  it('at exit writes what waits after a full pipe, once', async () => {
    const p = pipe();
    // The pipe filled by someone else: the sink's write finds it full (EAGAIN) and waits to try again.
    const filler = fill(p.w);
    const sink = new LogSink(p.w);
    sink.write('first\n');
    sink.write('second\n');
    await firstWriteBack(sink);
    // The reader takes what filled the pipe; the agent exits before the sink's next try.
    assert.equal(Buffer.byteLength(await readUntil(p.r, filler)), filler);
    sink.write('third\n');
    sink.flushSync();
    assert.equal(readNow(p.r), 'first\nsecond\nthird\n');
    p.close();
  });

  it('at exit leaves a line in flight to its write, and writes each other line once', async () => {
    const p = pipe();
    const sink = new LogSink(p.w);
    const lines = Array.from({ length: 500 }, (_, i) => line(i));
    for (const l of lines) sink.write(l);
    sink.flushSync();
    const got = await readUntil(p.r, lines.join('').length);
    assert.deepEqual(got.split(/(?<=\n)/).sort(), lines);
    p.close();
  });

  it('settles at once when idle, and after a full pipe only once every waiting line is written, in order', async () => {
    const p = pipe();
    const sink = new LogSink(p.w);
    await sink.settled();
    const filler = fill(p.w);
    sink.write('first\n');
    sink.write('second\n');
    let done = false;
    const settled = sink.settled().then(() => {
      done = true;
    });
    // The sink's first write came back on the full pipe: nothing is written, so nothing is settled.
    await firstWriteBack(sink);
    assert.equal(done, false);
    sink.write('third\n');
    const all = await readUntil(p.r, filler + Buffer.byteLength('first\nsecond\nthird\n'));
    await settled;
    assert.equal(all.slice(filler), 'first\nsecond\nthird\n');
    sink.flushSync();
    assert.equal(readNow(p.r), '', 'nothing is left for the exit to write again');
    p.close();
  });

  it('settles when its reader is gone: logging has ended', async () => {
    const fifo = path.join(tmpDir(), 'gone.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const r = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const w = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(r);
    const sink = new LogSink(w);
    sink.write('into a pipe nobody reads\n');
    await sink.settled();
    // The write failed (EPIPE) and the sink gave up: a new line waits for nothing.
    sink.write('after\n');
    await sink.settled();
    closeSync(w);
  });
});
