/** Benchmarks that measure the agent in their own process run under the installed command's settings. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { commandNode } from '../../bench/_agent-process.js';

describe('benchmark settings', () => {
  it("are the command's node flags and environment, read from its launcher, and node takes them", () => {
    const { execArgv: flags, env } = commandNode();
    assert.ok(
      flags.some((f) => f.startsWith('--max-semi-space-size=')),
      flags.join(' '),
    );
    assert.match(env.MALLOC_MMAP_THRESHOLD_ ?? '', /^\d+$/);
    // Only the launcher's own settings: the snapshot's, set on that path alone, are not among them.
    assert.equal(env.GLIBC_TUNABLES, undefined);
    const r = spawnSync(process.execPath, [...flags, '-p', 'process.execArgv.slice(0, -2).join(" ")'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), flags.join(' '));
  });
});
