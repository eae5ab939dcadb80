import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { messageWriter } from '../../agent/core/logger.js';
import { tmpDir } from '../helpers/tmp.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the agent log', () => {
  it('is JSON lines through a pipe and readable lines on a terminal', () => {
    const file = path.join(tmpDir(), 'log.mjs');
    const logger = new URL('../../agent/core/logger.ts', import.meta.url).href;
    writeFileSync(
      file,
      `const { createLogger } = await import(${JSON.stringify(logger)});\n` +
        `(await createLogger('info', false)).log.info({ speed: 42 }, 'hello');\n`,
    );
    const node = `${process.execPath} --import tsx ${file}`;
    const piped = spawnSync('sh', ['-c', node], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(piped.status, 0, piped.stderr);
    assert.deepEqual((({ msg, speed, level }) => ({ msg, speed, level }))(JSON.parse(piped.stdout)), {
      msg: 'hello',
      speed: 42,
      level: 30,
    });
    // `script` runs it on a pseudo-terminal.
    const tty = spawnSync('script', ['-qec', node, '/dev/null'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(tty.status, 0, tty.stderr);
    assert.match(tty.stdout, /INFO.*hello.*speed.*42/);
    assert.doesNotMatch(tty.stdout, /"msg"/);
  });
});

describe('messageWriter', () => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, stream: { write: (l: string) => lines.push(l) } };
  };
  const at42 = () => ',"time":42';

  it('writes the line pino writes, bindings and escapes included, at the logger level', () => {
    const ours = capture();
    const theirs = capture();
    const a = pino({ level: 'info', base: undefined, timestamp: at42 }, ours.stream).child({
      source: 'rule:a',
    });
    const b = pino({ level: 'info', base: undefined, timestamp: at42 }, theirs.stream).child({
      source: 'rule:a',
    });
    const messages = ['plain', 'a "quoted" \\ back\nslash\ttab', 'ünïcødé ✓ \u0001', ''];
    for (const m of messages) {
      messageWriter(a, 'warn')(m);
      b.warn(m);
    }
    messageWriter(a, 'debug')('below the level');
    assert.equal(ours.lines.length, messages.length);
    assert.deepEqual(ours.lines, theirs.lines);
    assert.deepEqual(
      ours.lines.map((l) => JSON.parse(l).msg),
      messages,
    );
    // The level as it is when a line is written, not when the writer was made.
    const debug = messageWriter(a, 'debug');
    a.level = 'debug';
    debug('now shown');
    a.level = 'error';
    messageWriter(a, 'warn')('now hidden');
    assert.equal(JSON.parse(ours.lines.at(-1)!).msg, 'now shown');
    assert.equal(ours.lines.length, messages.length + 1);
  });

  it('leaves a logger that shapes its lines to pino', () => {
    const out = capture();
    const shaped = [
      pino({ base: undefined, mixin: () => ({ unit: 'u1' }) }, out.stream),
      pino({ base: undefined, formatters: { log: (o) => ({ ...o, unit: 'u1' }) } }, out.stream),
      pino({ base: undefined, msgPrefix: '[u1] ' }, out.stream),
      pino({ base: undefined, messageKey: 'message' }, out.stream),
      pino({ base: undefined, hooks: { streamWrite: (s) => s.replace('hello', 'hello u1') } }, out.stream),
    ];
    for (const log of shaped) messageWriter(log, 'info')('hello');
    const lines = out.lines.map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.unit, l.msg ?? l.message]),
      [
        ['u1', 'hello'],
        ['u1', 'hello'],
        [undefined, '[u1] hello'],
        [undefined, 'hello'],
        [undefined, 'hello u1'],
      ],
    );
  });
});
