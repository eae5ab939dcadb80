import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
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
