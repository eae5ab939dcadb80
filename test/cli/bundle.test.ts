import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.js';

// Run as installed, as a program: its node flags and startup snapshot apply.
const bin = (...args: string[]) =>
  spawnSync(path.join(ROOT, 'bin/pitcrew.js'), args, {
    cwd: ROOT,
    env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` },
    encoding: 'utf8',
    timeout: 60_000,
  });

// `npm test` builds first (pretest), so what is tested here is what `npm pack` ships.
describe('the installed command (npm run build, bin/pitcrew.js)', () => {
  it('is built, and the bundle runs the CLI', () => {
    for (const f of ['dist/bin/pitcrew.cjs', 'dist/bin/module-thread.mjs'])
      assert.ok(existsSync(path.join(ROOT, f)), `${f} is missing: run npm run build`);
    assert.match(bin('--version').stdout, /^\d+\.\d+\.\d+\n$/);
    const ok = bin('validate');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /config\/pitcrew\.yaml: ok/);
    assert.match(
      bin('schema', 'bundle').stdout,
      /"\$id": "https:\/\/pitcrew\.dev\/schemas\/bundle\.schema\.json"/,
    );
  });

  it("names its build by what a startup snapshot is made of (the bundle and the snapshot's entry)", () => {
    const hash = createHash('sha256');
    for (const f of ['dist/bin/pitcrew.cjs', 'dist/bin/snapshot-entry.cjs'])
      hash.update(readFileSync(path.join(ROOT, f)));
    assert.equal(
      readFileSync(path.join(ROOT, 'dist/bin/build-id'), 'utf8'),
      `${hash.digest('hex').slice(0, 32)}\n`,
    );
  });
});
