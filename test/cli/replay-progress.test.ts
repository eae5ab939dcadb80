/**
 * `pitcrew replay` on a terminal shows where it is (a pty made by `script`, through the installed
 * command); piped, it prints no progress at all. The line itself on a fake clock.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Progress } from '../../agent/cli/progress.js';
import { ROOT, runBin } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

/** A drive of `n` readings, one a second, and a config with a rule on them. */
function drive(n: number) {
  const dir = tmpDir();
  const file = path.join(dir, 'drive.jsonl');
  const t0 = Date.UTC(2026, 4, 1, 8, 0, 0);
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ tag: 'vehicle/obd/rpm', data: { value: 800 + (i % 3000) }, ts: t0 + i * 1000 }),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
  const config = path.join(dir, 'pitcrew.yaml');
  writeFileSync(
    config,
    'version: 1\nreactor: { rules: [{ name: high, on: vehicle/obd/rpm, when: { ">": [{ var: event.data.value }, 3000] }, do: [{ emit: { tag: rpm/high } }] }] }\n',
  );
  return { file, config };
}

describe('replay progress', () => {
  it('on a terminal: percent, bytes, events/s and the drive time, then the line is cleared', () => {
    const { file, config } = drive(20_000);
    // stdout (the traces) to /dev/null; stderr is the terminal `script` makes.
    const r = spawnSync(
      'script',
      [
        '-qec',
        `"${path.join(ROOT, 'bin/pitcrew.js')}" replay -c "${config}" "${file}" >/dev/null`,
        '/dev/null',
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` },
      },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /\r +\d+ % · [\d.]+ (kB|MB) of [\d.]+ (kB|MB) · [\d,]+ events\/s · at 2026-05-01T\d\d:\d\d:\d\d/,
    );
    assert.ok(r.stdout.includes('\r\x1b[Kreplayed 20000 events'), JSON.stringify(r.stdout.slice(-200)));
  });

  it('piped: no progress, only the summary', async () => {
    const { file, config } = drive(5000);
    const r = await runBin(['replay', '-c', config, file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim(), 'replayed 5000 events');
  });

  it('draws at most every 250 ms, with the time left from the share done so far', () => {
    let now = 0;
    const out: string[] = [];
    const p = new Progress(
      { isTTY: true, write: (s: string) => out.push(s) },
      4 * 1024 ** 2,
      'events',
      () => now,
    );
    now = 1000;
    p.update({ done: 1024 ** 2, items: 50_000, at: '08:00:10' });
    now = 1100;
    p.update({ done: 1.1 * 1024 ** 2, items: 55_000 });
    assert.equal(out.length, 1);
    assert.equal(out[0], '\r 25 % · 1.0 MB of 4.0 MB · 50,000 events/s · at 08:00:10 · 3.0 s left\x1b[K');
    now = 1250;
    p.update({ done: 2 * 1024 ** 2, items: 100_000 });
    assert.equal(out[1], '\r 50 % · 2.0 MB of 4.0 MB · 80,000 events/s · 1.3 s left\x1b[K');
    p.end();
    assert.equal(out[2], '\r\x1b[K');
  });

  it('writes nothing at all to what is not a terminal', () => {
    const out: string[] = [];
    const p = new Progress({ isTTY: false, write: (s: string) => out.push(s) }, 100, 'events');
    p.update({ done: 50, items: 10 });
    p.end();
    assert.deepEqual(out, []);
  });
});
