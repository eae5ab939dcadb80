/**
 * `npm run lint` as part of the suite: the tests run through tsx, which strips types without
 * checking them, so a type error or a lint finding in a test (or a bench) would pass CI unseen.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Runs a tool of the checkout; resolves with its exit code and what it printed. */
function run(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, script), ...args], { cwd: ROOT });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      out += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('lint', () => {
  it('biome finds nothing in the repository', async () => {
    const { code, out } = await run('node_modules/@biomejs/biome/bin/biome', ['check', '.']);
    assert.equal(code, 0, out);
  });

  it('the whole repository type-checks, tests and benchmarks included', async () => {
    const { code, out } = await run('node_modules/typescript/bin/tsc', ['--noEmit', '-p', '.']);
    assert.equal(code, 0, out);
  });
});
