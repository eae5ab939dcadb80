/** The last known good config means the same when read back from data_dir: durations as written, paths absolute. */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigSync } from '../../agent/config/load.js';
import { deepFreeze } from '../../agent/core/freeze.js';
import {
  lastKnownGoodFile,
  loadLastKnownGood,
  saveLastKnownGood,
} from '../../agent/rollout/last-known-good.js';
import { FIXTURES } from '../helpers/agent.js';
import { tmpDir, writeFiles } from '../helpers/tmp.js';

describe('last known good', () => {
  it('reads back as the very config it was saved from', async () => {
    const dir = tmpDir();
    writeFiles(dir, {
      '.pitcrew-root': '',
      'key.pub': 'x\n',
      'hooks.mjs': 'export const keep = () => {};\n',
      'rules/a.yaml':
        'reactor:\n  rules:\n    - { name: r, on: x, throttle: 2m, do: [{ emit: { tag: y } }] }\n',
      'pitcrew.yaml': `version: 1
include: [rules/a.yaml]
unit: { id: u, data_dir: var }
status: { window: 45s }
cloud: { mqtt: { url: "mqtt://127.0.0.1:1", keepalive: 20s, reconnect: { min: 250ms, max: 2m } }, outbox: { max_bytes: 8MB } }
rollout: { debounce: 2s, bundles: { trust: { keys: [key.pub] } } }
updates: { trust: { keys: [key.pub] } }
services:
  m:
    driver: module
    settings: { module: ${FIXTURES}/modules/counter.mjs, step: 1 }
    workers: [{ name: w, interval: 1.5s, messages: [{ handler: tick, returner: [signals, ./hooks.mjs#keep] }] }]
`,
    });
    const loaded = loadConfigSync(path.join(dir, 'pitcrew.yaml'), {});
    const dataDir = path.join(dir, 'elsewhere');
    mkdirSync(dataDir);
    // The document as loaded is shared (a reload's memo keeps its rules): saving writes a copy.
    const before = JSON.stringify(loaded.raw);
    saveLastKnownGood(dataDir, deepFreeze(loaded.raw), loaded.config);
    assert.equal(JSON.stringify(loaded.raw), before);
    const back = (await loadLastKnownGood(dataDir))!.config;
    const { include: _i, ...want } = loaded.config;
    const { include: _j, ...got } = back;
    assert.deepEqual(got, want);
    assert.equal(got.status.window, 45_000);
    assert.equal(got.unit.data_dir, path.join(dir, 'var'));
    assert.equal(got.updates!.download.dir, loaded.config.updates!.download.dir);
    assert.ok(path.isAbsolute(got.updates!.download.dir));
    assert.deepEqual(got.rollout!.bundles!.trust.keys, [path.join(dir, 'key.pub')]);
  });

  it('is written durably when it changes, and not again for the same config (a start flushes nothing)', () => {
    const dir = tmpDir();
    writeFiles(dir, { 'pitcrew.yaml': 'version: 1\nunit: { id: u, data_dir: var }\n' });
    const loaded = loadConfigSync(path.join(dir, 'pitcrew.yaml'), {});
    const file = lastKnownGoodFile(dir);
    saveLastKnownGood(dir, loaded.raw, loaded.config);
    const first = statSync(file).ino;
    saveLastKnownGood(dir, loaded.raw, loaded.config);
    assert.equal(statSync(file).ino, first, 'the same config: the file as it was');
    writeFiles(dir, { 'pitcrew.yaml': 'version: 1\nunit: { id: v, data_dir: var }\n' });
    const changed = loadConfigSync(path.join(dir, 'pitcrew.yaml'), {});
    saveLastKnownGood(dir, changed.raw, changed.config);
    assert.notEqual(statSync(file).ino, first, 'replaced whole, by a rename');
    assert.match(readFileSync(file, 'utf8'), /"id": "v"/);
    assert.deepEqual(readdirSync(dir).sort(), ['last-known-good.json', 'pitcrew.yaml']);
  });
});
