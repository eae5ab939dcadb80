/**
 * The module SDK through the installed command, from a directory outside the repository:
 * `pitcrew new service` writes a module whose own test passes under `pitcrew test`, whose config
 * validates and runs; a module there imports `pitcrew` and the agent's own `mqtt`.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
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
});
