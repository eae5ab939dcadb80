import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FakeClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/logger.js';
import { Downloader } from '../../agent/updates/downloader.js';
import { artifactServer } from '../helpers/artifact-server.js';
import { callsIn, traced } from '../helpers/syscalls.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

function downloader(parallel = 4, retry: { attempts?: number; deadline?: number } = {}) {
  const clock = new FakeClock();
  const dir = tmpDir();
  const d = new Downloader({
    dir,
    parallel,
    retry: { min: 60_000, max: 240_000, attempts: 10, ...retry },
    clock,
    log: silentLogger,
  });
  return { d, clock, dir };
}

const never = () => new AbortController().signal;

describe('downloader', async () => {
  const http = await artifactServer();

  test('downloads and verifies a file, named by its digest', async () => {
    const { d } = downloader();
    const body = randomBytes(300_000);
    const a = http.serve('ok.bin', body);
    const seen: number[] = [];
    const file = await d.fetch({ id: 'ok', ...a }, never(), (b) => seen.push(b));
    assert.equal(file, d.fileOf(a));
    assert.deepEqual(readFileSync(file), body);
    assert.equal(seen.at(-1), body.length);
    // A verified file is not fetched again.
    const before = http.hits('ok.bin');
    await d.fetch({ id: 'ok', ...a }, never(), () => {});
    assert.equal(http.hits('ok.bin'), before);
  });

  test('a verified file is on the disk before it is named done (a power cut leaves a partial file to go on from)', async () => {
    const { d, dir } = downloader();
    const a = http.serve('durable.bin', randomBytes(100_000));
    let file = '';
    const lines = await traced(['fsync', 'rename', 'renameat', 'renameat2'], async () => {
      file = await d.fetch({ id: 'durable', ...a }, never(), () => {});
    });
    const seen = callsIn(lines, dir);
    const name = path.relative(dir, file);
    const named = seen.indexOf(`rename ${name}.part ${name}`);
    assert.ok(named > 0, JSON.stringify(seen));
    assert.equal(seen[named - 1], `fsync ${name}.part`);
    assert.equal(seen[named + 1], 'fsync .');
  });

  test('a dropped connection is resumed with a Range request from the partial file', async () => {
    const { d, clock } = downloader();
    const body = randomBytes(200_000);
    const a = http.serve('drop.bin', body, { kind: 'drop', bytes: 70_000, times: 1 });
    const run = d.fetch({ id: 'drop', ...a }, never(), () => {});
    await waitFor(() => clock.timers > 0, 'the retry to be scheduled');
    assert.ok(existsSync(`${d.fileOf(a)}.part`));
    await clock.advance(60_000);
    const file = await run;
    assert.deepEqual(readFileSync(file), body);
    const ranges = http.requests.filter((r) => r.path === '/drop.bin').map((r) => r.range ?? null);
    assert.equal(ranges.length, 2);
    assert.equal(ranges[0], null);
    assert.match(ranges[1]!, /^bytes=\d+-$/);
    assert.ok(Number(/=(\d+)/.exec(ranges[1]!)![1]) >= 60_000, 'resumed where the partial file ended');
  });

  test('a wrong hash deletes the file and retries with doubling backoff up to retry.max', async () => {
    const { d, clock } = downloader();
    const body = randomBytes(10_000);
    const a = http.serve('wrong.bin', body, { kind: 'wrong', times: 4 });
    const run = d.fetch({ id: 'wrong', ...a }, never(), () => {});
    const waits: number[] = [];
    for (let i = 1; i <= 4; i++) {
      await waitFor(() => clock.timers > 0 && http.hits('wrong.bin') === i, `attempt ${i}`);
      assert.ok(!existsSync(`${d.fileOf(a)}.part`), 'the bad file is deleted');
      // The wait is read off the clock's next timer, then run exactly: the test never guesses how
      // long a request takes in real time.
      const wait = clock.nextAt! - clock.now();
      waits.push(wait);
      await clock.advance(wait - 1);
      assert.equal(http.hits('wrong.bin'), i, 'nothing happens just short of the wait');
      await clock.advance(1);
    }
    assert.deepEqual(waits, [60_000, 120_000, 240_000, 240_000]);
    assert.deepEqual(readFileSync(await run), body);
  });

  test('500s are retried until the server recovers', async () => {
    const { d, clock } = downloader();
    const body = randomBytes(1000);
    const a = http.serve('flaky.bin', body, { kind: 'status', status: 500, times: 2 });
    const run = d.fetch({ id: 'flaky', ...a }, never(), () => {});
    for (let i = 1; i <= 2; i++) {
      await waitFor(() => clock.timers > 0 && http.hits('flaky.bin') === i, `attempt ${i}`);
      await clock.advance(240_000);
    }
    assert.deepEqual(readFileSync(await run), body);
  });

  test('a 404 fails at once: retrying cannot mend it', async () => {
    const { d } = downloader();
    await assert.rejects(
      d.fetch(
        { id: 'gone', urls: [`${http.base}/nothing-here`], sha256: 'a'.repeat(64), size: 10 },
        never(),
        () => {},
      ),
      (e: Error & { code?: string }) => e.code === 'PITCREW_UPDATE_HTTP' && /HTTP 404/.test(e.message),
    );
  });

  test('a file larger than the free disk space fails before downloading', async () => {
    const { d } = downloader();
    const a = http.serve('huge.bin', Buffer.from('x'));
    await assert.rejects(
      d.fetch({ id: 'huge', ...a, size: 2 ** 60 }, never(), () => {}),
      (e: Error & { code?: string }) => e.code === 'PITCREW_UPDATE_DISK',
    );
    assert.equal(http.hits('huge.bin'), 0);
  });

  test('a mirror that fails is passed over for the next', async () => {
    const { d } = downloader();
    const body = randomBytes(5000);
    const a = http.serve('mirror.bin', body);
    const file = await d.fetch({ id: 'm', ...a, urls: [`${http.base}/down`, ...a.urls] }, never(), () => {});
    assert.deepEqual(readFileSync(file), body);
  });

  test('at most `parallel` downloads at once; cancel aborts one and leaves the others', async () => {
    const { d } = downloader(2);
    const bodies = [0, 1, 2].map(() => randomBytes(40_000));
    const arts = bodies.map((b, i) => http.serve(`p${i}.bin`, b, { kind: 'slow', chunk: 4000, everyMs: 10 }));
    const acs = arts.map(() => new AbortController());
    const runs = arts.map((a, i) => d.fetch({ id: `p${i}`, ...a }, acs[i]!.signal, () => {}));
    await waitFor(() => http.hits('p0.bin') + http.hits('p1.bin') === 2, 'two downloads');
    assert.equal(http.hits('p2.bin'), 0, 'the third waits for a slot');
    acs[0]!.abort(new Error('cancelled'));
    await assert.rejects(runs[0]!, /cancelled/);
    assert.deepEqual(readFileSync(await runs[1]!), bodies[1]);
    assert.deepEqual(readFileSync(await runs[2]!), bodies[2]);
  });

  test('a partial file left by an earlier run is continued, not restarted', async () => {
    const { d } = downloader();
    const body = randomBytes(50_000);
    const a = http.serve('left.bin', body);
    writeFileSync(`${d.fileOf(a)}.part`, body.subarray(0, 20_000));
    await d.fetch({ id: 'left', ...a }, never(), () => {});
    assert.equal(http.requests.filter((r) => r.path === '/left.bin').at(-1)?.range, 'bytes=20000-');
    assert.deepEqual(readFileSync(path.join(d.fileOf(a))), body);
  });

  test('an item that keeps failing ends after retry.attempts, with the last error', async () => {
    const { d, clock } = downloader(4, { attempts: 3 });
    const a = http.serve('always500.bin', randomBytes(100), { kind: 'status', status: 500, times: 1000 });
    const run = d.fetch({ id: 'bad', ...a }, never(), () => {});
    run.catch(() => {});
    for (let i = 1; i < 3; i++) {
      await waitFor(() => clock.timers > 0 && http.hits('always500.bin') === i, `attempt ${i}`);
      await clock.advance(clock.nextAt! - clock.now());
    }
    await assert.rejects(run, (e: Error & { code?: string }) => {
      assert.equal(e.code, 'PITCREW_UPDATE_GAVE_UP');
      assert.match(e.message, /gave up after 3 attempts \(last: download of .* failed: HTTP 500\)/);
      return true;
    });
    assert.equal(http.hits('always500.bin'), 3);
  });

  test('retry.deadline cuts off a server that trickles (the attempt under way included)', async () => {
    const { d, clock } = downloader(4, { deadline: 3_600_000 });
    const a = http.serve('trickle.bin', randomBytes(100_000), { kind: 'slow', chunk: 1, everyMs: 20 });
    const run = d.fetch({ id: 'slow', ...a }, never(), () => {});
    run.catch(() => {});
    await waitFor(() => http.hits('trickle.bin') === 1, 'the download to begin');
    await clock.advance(3_600_000);
    await assert.rejects(run, /download of slow gave up after its deadline of 3600000 ms/);
  });

  test('a redirect fails the item at once: it is not followed, and not retried', async () => {
    const { d, clock } = downloader();
    const a = http.serve('moved.bin', randomBytes(100), { kind: 'status', status: 302, times: 1000 });
    await assert.rejects(
      d.fetch({ id: 'moved', ...a }, never(), () => {}),
      /HTTP 302: redirects are not followed/,
    );
    assert.equal(clock.timers, 0, 'no retry scheduled');
  });

  test('items with the same digest share one download; it stops only when all of them abort', async () => {
    const { d } = downloader();
    const body = randomBytes(40_000);
    const a = http.serve('same.bin', body, { kind: 'slow', chunk: 4000, everyMs: 10 });
    const one = new AbortController();
    const first = d.fetch({ id: 'one', ...a }, one.signal, () => {});
    const second = d.fetch({ id: 'two', ...a }, never(), () => {});
    one.abort(new Error('cancelled'));
    await assert.rejects(first, /cancelled/);
    assert.deepEqual(readFileSync(await second), body);
    assert.equal(http.hits('same.bin'), 1);
  });
});
