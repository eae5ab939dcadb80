/**
 * The package as a unit gets it: `npm pack`, then `npm install -g` of the tarball into a temporary
 * prefix (native addons built there), then the installed `pitcrew` run from another directory on
 * a config elsewhere, with a module service next to it. The tarball has no startup snapshot (one
 * is built for a node): the first start builds it, and the next one starts from it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, startCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const NATIVE = 'better-sqlite3,socketcan,unix-dgram,@serialport/bindings-cpp';

describe('npm pack, npm install -g, pitcrew run', () => {
  it('installs with its native addons and runs a config from anywhere, module services included', {
    timeout: 600_000,
  }, async () => {
    const dir = tmpDir('pitcrew-pack-');
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` };
    const npm = (args: string[], cwd = ROOT) => {
      const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 540_000 });
      assert.equal(r.status, 0, `npm ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    npm(['pack', '--pack-destination', dir]);
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    assert.match(tgz, /^pitcrew-\d+\.\d+\.\d+\.tgz$/);
    const listed = spawnSync('tar', ['tzf', path.join(dir, tgz)], { encoding: 'utf8' }).stdout.split('\n');
    for (const f of [
      'LICENSE',
      'CHANGELOG.md',
      'README.md',
      'deploy/pitcrew.service',
      'dist/bin/snapshot-entry.cjs',
    ])
      assert.ok(listed.includes(`package/${f}`), `${f} is in the tarball`);
    assert.deepEqual(
      listed.filter((f) => f.includes('dist/bin/snapshot/')),
      [],
      'no startup snapshot in the tarball',
    );
    const prefix = path.join(dir, 'prefix');
    npm([
      'install',
      '-g',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      `--allow-scripts=${NATIVE}`,
      path.join(dir, tgz),
    ]);

    const etc = path.join(dir, 'etc');
    const cfg = path.join(etc, 'pitcrew.yaml');
    spawnSync('mkdir', ['-p', etc]);
    writeFileSync(
      path.join(etc, 'beacon.mjs'),
      `export function createService(_s, ctx) {
  return { handlers: { ping: async () => ({ type: 'ping', value: 'pong', ts: ctx.clock.now() }) } };
}
`,
    );
    writeFileSync(
      cfg,
      `version: 1
unit: { id: pkg-1, data_dir: ${dir}/var }
control: { socket: ${dir}/ctl.sock }
services:
  obd:
    driver: sim-vehicle
    settings: {}
    workers: [{ name: fast, interval: 100ms, messages: [{ handler: query, args: { pid: COOLANT_TEMP }, returner: emit }] }]
  beacon:
    driver: module
    settings: { module: ./beacon.mjs }
    workers: [{ name: ping, interval: 100ms, messages: [{ handler: ping, returner: emit }] }]
`,
    );
    const bin = path.join(prefix, 'bin/pitcrew');
    const validate = spawnSync(bin, ['validate', '-c', cfg], { cwd: '/', env, encoding: 'utf8' });
    assert.equal(validate.status, 0, validate.stderr);
    const start = () => {
      const run = startCli(['run', '-c', cfg, '--events'], {
        cwd: '/',
        env: { PATH: env.PATH },
        runner: 'bin',
        bin,
      });
      after(() => run.child.kill('SIGKILL'));
      return run;
    };
    const first = start();
    const starting = (l: string) => l.includes('"msg":"starting"');
    assert.match(await first.waitFor(starting, 20_000, 'stderr'), /"snapshot":false/);
    await first.waitFor((l) => l.includes('"vehicle/obd/coolant_temp"'));
    await first.waitFor((l) => l.includes('"vehicle/beacon/ping"') && l.includes('"pong"'));
    await first.waitFor((l) => l.includes('startup snapshot built'), 120_000, 'stderr');
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);

    // From the snapshot: the same agent, user modules imported as before.
    const next = start();
    assert.match(await next.waitFor(starting, 20_000, 'stderr'), /"snapshot":true/);
    await next.waitFor((l) => l.includes('"vehicle/obd/coolant_temp"'));
    await next.waitFor((l) => l.includes('"vehicle/beacon/ping"') && l.includes('"pong"'));
    next.child.kill('SIGTERM');
    assert.equal(await next.exited, 0);
    assert.doesNotMatch(next.stderr(), /building a startup snapshot/);
  });
});
