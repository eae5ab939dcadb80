/** The last known good config means the same when read back from data_dir: durations as written, paths absolute. */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigSync } from '../../agent/config/load.js';
import type { ConfigT } from '../../agent/config/schema.js';
import { deepFreeze } from '../../agent/core/freeze.js';
import { LastKnownGood, lastKnownGoodFile, loadLastKnownGood } from '../../agent/rollout/last-known-good.js';
import { FIXTURES } from '../helpers/agent.js';
import { tmpDir, writeFiles } from '../helpers/tmp.js';

/** Keeps the configs given, each on the disk when it resolves; a failed write fails the test unless `failed` takes it. */
function keeper(
  dataDir: string,
  failed: (file: string, e: unknown) => void = (file, e) => assert.fail(`${file}: ${e}`),
) {
  const lkg = new LastKnownGood(dataDir, failed);
  return async (raw: unknown, config: ConfigT) => {
    lkg.save(raw, config);
    await lkg.settled();
  };
}

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
    await keeper(dataDir)(deepFreeze(loaded.raw), loaded.config);
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

  it('is written durably when it changes, and not again for the same config (a start flushes nothing)', async () => {
    const dir = tmpDir();
    writeFiles(dir, { 'pitcrew.yaml': 'version: 1\nunit: { id: u, data_dir: var }\n' });
    const loaded = loadConfigSync(path.join(dir, 'pitcrew.yaml'), {});
    const file = lastKnownGoodFile(dir);
    const keep = keeper(dir);
    await keep(loaded.raw, loaded.config);
    const first = statSync(file).ino;
    await keep(loaded.raw, loaded.config);
    assert.equal(statSync(file).ino, first, 'the same config: the file as it was');
    writeFiles(dir, { 'pitcrew.yaml': 'version: 1\nunit: { id: v, data_dir: var }\n' });
    const changed = loadConfigSync(path.join(dir, 'pitcrew.yaml'), {});
    await keep(changed.raw, changed.config);
    assert.notEqual(statSync(file).ino, first, 'replaced whole, by a rename');
    assert.match(readFileSync(file, 'utf8'), /"id": "v"/);
    assert.deepEqual(readdirSync(dir).sort(), ['last-known-good.json', 'pitcrew.yaml']);
  });

  it('configs saved one after another are written in that order, the last one kept', async () => {
    const dir = tmpDir();
    const lkg = new LastKnownGood(dir, (file, e) => assert.fail(`${file}: ${e}`));
    for (const id of ['a', 'b', 'c']) {
      writeFiles(dir, { 'pitcrew.yaml': `version: 1\nunit: { id: ${id}, data_dir: var }\n` });
      const loaded = loadConfigSync(path.join(dir, 'pitcrew.yaml'), {});
      lkg.save(loaded.raw, loaded.config);
    }
    await lkg.settled();
    assert.match(readFileSync(lastKnownGoodFile(dir), 'utf8'), /"id": "c"/);
  });

  it('a write that fails (a full card) is said, and the file keeps the config before', async () => {
    const dir = tmpDir();
    writeFiles(dir, { 'pitcrew.yaml': 'version: 1\nunit: { id: u, data_dir: var }\n' });
    const loaded = loadConfigSync(path.join(dir, 'pitcrew.yaml'), {});
    await keeper(dir)(loaded.raw, loaded.config);
    const before = readFileSync(lastKnownGoodFile(dir), 'utf8');
    // The file beside it cannot be made: a directory stands in its place.
    mkdirSync(`${lastKnownGoodFile(dir)}.tmp`);
    const failed: string[] = [];
    writeFiles(dir, { 'pitcrew.yaml': 'version: 1\nunit: { id: v, data_dir: var }\n' });
    const changed = loadConfigSync(path.join(dir, 'pitcrew.yaml'), {});
    await keeper(dir, (file, e) =>
      failed.push(`${path.basename(file)}: ${(e as NodeJS.ErrnoException).code}`),
    )(changed.raw, changed.config);
    assert.deepEqual(failed, ['last-known-good.json: EISDIR']);
    assert.equal(readFileSync(lastKnownGoodFile(dir), 'utf8'), before);
  });
});
