/**
 * `npm run lint` as part of the suite: the tests run through tsx, which strips types without
 * checking them, so a type error or a lint finding in a test (or a bench) would pass CI unseen.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers/cli.js';

/** Runs a tool of the checkout; its exit code and what it printed. */
function run(script: string, args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, script), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('lint', () => {
  it('biome finds nothing in the repository', () => {
    const { code, out } = run('node_modules/@biomejs/biome/bin/biome', ['check', '.']);
    assert.equal(code, 0, out);
  });

  it('the whole repository type-checks, tests and benchmarks included', () => {
    const { code, out } = run('node_modules/typescript/bin/tsc', ['--noEmit', '-p', '.']);
    assert.equal(code, 0, out);
  });
});
