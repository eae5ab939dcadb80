/**
 * Reloading through the installed command: a watched file edited in place and by rename, a bad
 * edit rejected with its position while the running config stays, SIGHUP, and a boot on the
 * last known good config when the file no longer loads.
 */
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Event } from '../../agent/core/bus.js';
import { runBin, startCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const config = (dir: string, watch: boolean, rule: string) => `version: 1
unit: { id: r-1, data_dir: var }
control: { socket: ${dir}/ctl.sock }
rollout: { watch: ${watch}, debounce: 100ms }
services:
  obd: { driver: sim-vehicle, settings: {} }
reactor:
  rules:
    - { name: echo, on: ping, do: [{ emit: { tag: "${rule}" } }] }
`;

const tagged = (tag: string) => (l: string) => l.startsWith('{') && (JSON.parse(l) as Event).tag === tag;

describe('config reload (real process)', () => {
  it('applies watched edits, in place and by rename; rejects a bad one with its position and keeps running', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'pitcrew.yaml');
    writeFileSync(file, config(dir, true, 'pong/one'));
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor(tagged('system/agent/started'));
    // Through the socket itself: the file may be broken on purpose.
    const ping = () => runBin(['emit', 'ping', '--socket', `${dir}/ctl.sock`]);

    writeFileSync(file, config(dir, true, 'pong/two'));
    await agent.waitFor(tagged('system/config/applied'));
    await ping();
    await agent.waitFor(tagged('pong/two'));

    writeFileSync(file, config(dir, true, 'pong/two').replace('do:', 'doo:'));
    const rejected = JSON.parse(await agent.waitFor(tagged('system/config/rejected'))) as Event;
    assert.equal(rejected.data.source, 'watch');
    assert.match((rejected.data.reasons as string[])[0]!, /pitcrew\.yaml:9:\d+ reactor\.rules\[0\]/);
    await ping();
    const status = JSON.parse((await runBin(['status', '--json', '--socket', `${dir}/ctl.sock`])).stdout) as {
      config: { status: string; errorInfo: { source: string } };
    };
    assert.deepEqual([status.config.status, status.config.errorInfo.source], ['error', 'watch']);
    const pongs = () => agent.lines.filter(tagged('pong/two')).length;
    await agent.waitFor(() => pongs() === 2);

    // An editor that writes a new file and renames it over the old one.
    writeFileSync(`${file}.swp`, config(dir, true, 'pong/three'));
    renameSync(`${file}.swp`, file);
    await agent.waitFor(() => agent.lines.filter(tagged('system/config/applied')).length === 2);
    await ping();
    await agent.waitFor(tagged('pong/three'));

    // pitcrew rollout: the file is the source; pull reloads it now.
    writeFileSync(file, config(dir, true, 'pong/four').replace('debounce: 100ms', 'debounce: 1h'));
    const pulled = JSON.parse((await runBin(['rollout', 'pull', '--socket', `${dir}/ctl.sock`])).stdout) as {
      source: string;
      status: string;
    };
    assert.deepEqual([pulled.source, pulled.status], ['file', 'error']); // rollout itself changed: a restart takes it
    writeFileSync(file, config(dir, true, 'pong/four'));
    const again = JSON.parse((await runBin(['rollout', 'pull', '--socket', `${dir}/ctl.sock`])).stdout) as {
      status: string;
    };
    assert.equal(again.status, 'installed');
    await ping();
    await agent.waitFor(tagged('pong/four'));
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
  });

  it('reloads on SIGHUP; boots on the last known good when the file no longer loads', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'pitcrew.yaml');
    writeFileSync(file, config(dir, false, 'pong/one'));
    const first = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => first.child.kill('SIGKILL'));
    await first.waitFor(tagged('system/agent/started'));
    writeFileSync(file, config(dir, false, 'pong/hup'));
    first.child.kill('SIGHUP');
    await first.waitFor(tagged('system/config/applied'));
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);

    writeFileSync(file, config(dir, false, 'pong/broken').replace('version: 1', 'version: 2'));
    const second = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => second.child.kill('SIGKILL'));
    const boot = JSON.parse(await second.waitFor(tagged('system/config/rejected'))) as Event;
    assert.equal(boot.data.source, 'boot');
    assert.match(
      (boot.data.reasons as string[]).join('\n'),
      /does not load; running the last known good[\s\S]*version must be 1/,
    );
    await second.waitFor(tagged('system/agent/started'));
    await second.waitFor((l) => l.includes('running the last known good config'), 20_000, 'stderr');
    // The last known good is the config SIGHUP applied.
    await runBin(['emit', 'ping', '--socket', `${dir}/ctl.sock`]);
    await second.waitFor(tagged('pong/hup'));
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  });

  it('after a last-known-good boot, rollout.watch watches the config file, and its fix is applied', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'pitcrew.yaml');
    writeFileSync(file, config(dir, true, 'pong/one'));
    const first = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => first.child.kill('SIGKILL'));
    await first.waitFor(tagged('system/agent/started'));
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);

    writeFileSync(file, config(dir, true, 'pong/broken').replace('version: 1', 'version: 2'));
    const second = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => second.child.kill('SIGKILL'));
    await second.waitFor(tagged('system/agent/started'));
    writeFileSync(file, config(dir, true, 'pong/fixed'));
    await second.waitFor(tagged('system/config/applied'));
    await runBin(['emit', 'ping', '--socket', `${dir}/ctl.sock`]);
    await second.waitFor(tagged('pong/fixed'));
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  });

  it('a block-style rule file edited in the middle: a rule put in runs, and a later error names its line', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'pitcrew.yaml');
    const rule = (name: string, tag: string) =>
      `    - name: ${name}\n      on: ping\n      do:\n        - emit:\n            tag: ${tag}\n`;
    const rules = (middle: string, last: string) =>
      Array.from(
        { length: 30 },
        (_, i) => (i === 15 ? middle : '') + rule(`r${i}`, i === 29 ? last : `pong/${i}`),
      ).join('');
    const head = config(dir, true, 'x').replace(/reactor:[\s\S]*/, 'reactor:\n  rules:\n');
    writeFileSync(file, head + rules('', 'pong/last'));
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor(tagged('system/agent/started'));
    const ping = () => runBin(['emit', 'ping', '--socket', `${dir}/ctl.sock`]);

    // A rule put in between two: the rules below it move by its lines.
    writeFileSync(file, head + rules(rule('inserted', 'pong/inserted'), 'pong/last'));
    await agent.waitFor(tagged('system/config/applied'));
    await ping();
    await agent.waitFor(tagged('pong/inserted'));
    await agent.waitFor(tagged('pong/last'));

    // The last rule broken: the error names its line in the file as it is now.
    const broken =
      head +
      rules(rule('inserted', 'pong/inserted'), 'pong/last').replace(
        /( {8}- )emit(:\n {12}tag: pong\/last)/,
        '$1emt$2',
      );
    writeFileSync(file, broken);
    const rejected = JSON.parse(await agent.waitFor(tagged('system/config/rejected'))) as Event;
    const line = broken.split('\n').findIndex((l) => l.includes('- emt:')) + 1;
    assert.match(
      (rejected.data.reasons as string[])[0]!,
      new RegExp(`pitcrew\\.yaml:${line}:\\d+ reactor\\.rules\\[30\\]`),
    );

    writeFileSync(file, head + rules(rule('inserted', 'pong/inserted'), 'pong/fixed'));
    await agent.waitFor(() => agent.lines.filter(tagged('system/config/applied')).length === 2);
    await ping();
    await agent.waitFor(tagged('pong/fixed'));
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
  });
});
