/**
 * The module SDK through the installed command, from a directory outside the repository:
 * `pitcrew new service` writes a module whose own test passes under `pitcrew test`, whose config
 * validates and runs; a module there imports `pitcrew` and the agent's own `mqtt`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Event } from '../../agent/core/bus.js';
import { runBin, startCli } from '../helpers/cli.js';
import { tagged } from '../helpers/desired-unit.js';
import { tmpDir } from '../helpers/tmp.js';

describe('module SDK', () => {
  it('pitcrew new service: a module, its passing test and a config that runs it', async () => {
    const dir = tmpDir();
    const made = await runBin(['new', 'service', 'greeter'], { cwd: dir });
    assert.equal(made.code, 0, made.stderr);
    const tested = await runBin(['test', 'greeter/service.test.js'], { cwd: dir });
    assert.equal(tested.code, 0, tested.stdout + tested.stderr);
    assert.match(tested.stdout, /pass 1/);
    assert.equal(
      (await runBin(['new', 'service', 'greeter'], { cwd: dir })).code,
      1,
      'never over what exists',
    );
    const config = path.join(dir, 'greeter/pitcrew.yaml');
    writeFileSync(config, `${readFileSync(config, 'utf8')}control: { socket: ${dir}/ctl.sock }\n`);
    assert.equal((await runBin(['validate', '-c', config])).code, 0);
    const agent = startCli(['run', '-c', config, '--events'], { runner: 'bin', cwd: dir });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor(tagged('system/agent/started'));
    const r = await runBin(['call', 'greeter', 'hello', '-c', config]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(JSON.parse(r.stdout).value, /^hello #\d+$/);
  });

  it("a module outside the repository imports pitcrew and the agent's own mqtt; bad settings name their place", async () => {
    const dir = tmpDir();
    writeFileSync(
      path.join(dir, 'probe.mjs'),
      `import mqtt from 'mqtt';
import { defineService, z } from 'pitcrew';
export default defineService({
  settings: z.object({ every: z.number().int().positive() }),
  create(settings, ctx) {
    return { handlers: { probe: async () => ({ type: 'probe', value: typeof mqtt.connect + ' ' + settings.every, ts: ctx.clock.now() }) } };
  },
});
`,
    );
    const config = (every: string) => {
      writeFileSync(
        path.join(dir, 'pitcrew.yaml'),
        `version: 1
unit: { id: sdk1, data_dir: var }
control: { socket: ${dir}/ctl.sock }
services:
  probe:
    driver: module
    settings: { module: ./probe.mjs, every: ${every} }
    workers: [{ name: p, interval: 1s, messages: [{ handler: probe, returner: emit }] }]
`,
      );
      return path.join(dir, 'pitcrew.yaml');
    };
    const bad = await runBin(['validate', '-c', config('"often"')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /pitcrew\.yaml:7:\d+ services\.probe\.settings\.every/);
    const agent = startCli(['run', '-c', config('5'), '--events'], { runner: 'bin', cwd: dir });
    after(() => agent.child.kill('SIGKILL'));
    const e = JSON.parse(await agent.waitFor(tagged('vehicle/probe/probe'))) as Event;
    assert.equal(e.data.value, 'function 5');
  });

  it('a module with its own package.json: its dependencies installed into data_dir/modules, once, and imported, in a thread too', async () => {
    const dir = tmpDir();
    const tiny = path.join(dir, 'tiny');
    mkdirSync(tiny);
    writeFileSync(
      path.join(tiny, 'package.json'),
      JSON.stringify({ name: 'tiny', version: '1.0.0', type: 'module', main: 'index.js' }),
    );
    writeFileSync(path.join(tiny, 'index.js'), 'export const answer = 42;\n');
    const mod = path.join(dir, 'svc');
    mkdirSync(mod);
    execFileSync('npm', ['pack', '--silent', '--pack-destination', mod], { cwd: tiny });
    writeFileSync(
      path.join(mod, 'package.json'),
      JSON.stringify({
        name: 'svc',
        private: true,
        type: 'module',
        dependencies: { tiny: 'file:tiny-1.0.0.tgz' },
      }),
    );
    writeFileSync(
      path.join(mod, 'service.js'),
      `import { answer } from 'tiny';
import { defineService } from 'pitcrew';
export default defineService({ create: (_s, ctx) => ({ handlers: { answer: async () => ({ type: 'answer', value: answer, ts: ctx.clock.now() }) } }) });
`,
    );
    const config = path.join(dir, 'pitcrew.yaml');
    writeFileSync(
      config,
      `version: 1
unit: { id: sdk2, data_dir: var }
control: { socket: ${dir}/ctl.sock }
services:
  svc: { driver: module, settings: { module: ./svc/service.js } }
`,
    );
    assert.equal(
      (await runBin(['validate', '-c', config])).code,
      0,
      'valid before its dependencies are there',
    );
    const run = async () => {
      const agent = startCli(['run', '-c', config, '--events'], { runner: 'bin', cwd: dir });
      try {
        await agent.waitFor(tagged('system/service/svc/started'), 120_000);
        const r = await runBin(['call', 'svc', 'answer', '-c', config]);
        const st = JSON.parse((await runBin(['status', '-c', config])).stdout);
        return { value: JSON.parse(r.stdout).value, driver: st.services.svc.driver, log: agent.stderr() };
      } finally {
        agent.child.kill('SIGTERM');
        await agent.exited;
      }
    };
    const first = await run();
    assert.equal(first.value, 42);
    assert.equal(first.driver.cached, false);
    assert.match(first.driver.dependencies, /var\/modules\/[0-9a-f]{16}$/);
    assert.match(first.log, /module dependencies installed/);
    // Again in a thread of its own, which resolves `pitcrew` and the installed `tiny` the same way.
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('./svc/service.js', './svc/service.js, isolation: thread'),
    );
    const again = await run();
    assert.deepEqual(
      [again.value, again.driver.cached],
      [42, true],
      'installed once, by the hash of package.json; imported in a thread too',
    );
  });
});
