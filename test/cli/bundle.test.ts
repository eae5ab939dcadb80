import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.js';

const bin = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, 'bin/pitcrew.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('the installed command (npm run build, bin/pitcrew.js)', () => {
  it('builds, and the bundle runs the CLI', () => {
    const build = spawnSync('npm', ['run', '--silent', 'build'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(build.status, 0, build.stderr);
    assert.match(bin('--version').stdout, /^\d+\.\d+\.\d+\n$/);
    const ok = bin('validate');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /config\/pitcrew\.yaml: ok/);
    assert.match(
      bin('schema', 'bundle').stdout,
      /"\$id": "https:\/\/pitcrew\.dev\/schemas\/bundle\.schema\.json"/,
    );
  });
});
