/**
 * What a signed desired status, an archive or an installer's arguments could do to a unit, and
 * what now stops each: names confined to one grammar and deletes to the installer root, archives
 * bounded while they unpack, replays refused, placeholders kept out of the program and options.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { realClock } from '../../agent/core/clock.js';
import { archiveLimits } from '../../agent/updates/installers/archive.js';
import { CommandInstaller } from '../../agent/updates/installers/command.js';
import { removeInside } from '../../agent/updates/installers/confined.js';
import { DirectoryInstaller } from '../../agent/updates/installers/directory.js';
import type { ItemT } from '../../agent/updates/model.js';
import { runCli } from '../helpers/cli.js';
import { configFile, tmpDir } from '../helpers/tmp.js';
import { desired, updateAgent } from '../helpers/update-agent.js';
import { signedDesired, type TarEntry, tarGz } from '../helpers/updates.js';

const SOTA = `download: { dir: dl, retry: { min: 1m, max: 4m } }
sota:
  schedule: { type: force }
  installer: { type: directory, root: sub/apps }`;

const service = (id: string, version = '1.0'): ItemT => ({
  section: 'services',
  action: 'install',
  id,
  version,
  urls: [],
  status: 'pending',
});

describe('names from messages are confined', () => {
  test("service ids '..' and '.' are refused when the message is read, with the reason in the ack; nothing is deleted", async () => {
    const u = await updateAgent(SOTA);
    const sub = path.join(u.dir, 'sub');
    u.send(desired({ services: [u.app('nav', '1'), u.app('media', '1')] }));
    await u.reach('sota', 'noUpdate');
    assert.deepEqual(readdirSync(path.join(sub, 'apps', 'services')).sort(), ['media', 'nav']);
    for (const id of ['..', '.', 'a/b', '-rf', '.hidden', 'x'.repeat(129)]) {
      const outcome = u.send(desired({ services: [{ ...u.app('nav', '1'), id }] }));
      assert.equal(outcome.status, 'rejected', id);
      assert.match(outcome.reasons[0]!, /services\.0\.id: must be 1 to 128 of letters/, id);
    }
    for (const field of ['version', 'type', 'id'] as const) {
      const outcome = u.send(desired({ components: [{ ...u.component('ecu', '1'), [field]: '../x' }] }));
      assert.match(outcome.reasons[0]!, new RegExp(`components\\.0\\.${field}: must be`));
    }
    const layer = u.send(desired({ layers: [{ ...u.app('base', '1'), digest: 'sha256:../../x' }] }));
    assert.match(layer.reasons[0]!, /layers\.0\.digest: must be/);
    assert.deepEqual(readdirSync(path.join(sub, 'apps', 'services')).sort(), ['media', 'nav']);
    assert.deepEqual(
      (u.manager.status() as { installed: { id: string }[] }).installed.map((i) => i.id).sort(),
      ['media', 'nav'],
    );
  });

  test('every delete an installer makes stays strictly inside its root, symlinks resolved', async () => {
    const dir = tmpDir();
    const root = path.join(dir, 'apps');
    mkdirSync(path.join(root, 'services', 'nav'), { recursive: true });
    mkdirSync(path.join(dir, 'precious'));
    symlinkSync(path.join(dir, 'precious'), path.join(root, 'services', 'link'));
    for (const target of [
      root,
      dir,
      path.join(root, '..'),
      path.join(dir, 'precious'),
      path.join(root, 'services', 'link', 'x'),
    ])
      await assert.rejects(removeInside(root, target), /refused to delete/, target);
    assert.ok(existsSync(path.join(dir, 'precious')) && existsSync(root));
    await removeInside(root, path.join(root, 'services', 'nav'));
    assert.ok(!existsSync(path.join(root, 'services', 'nav')));
    // An item from an older store with a bad name is refused by the installer itself.
    const inst = new DirectoryInstaller(root, async () => ({ maxBytes: 1e9, maxEntries: 10, maxPath: 4096 }));
    await assert.rejects(inst.remove({ ...service('..'), action: 'remove' }), /is not a safe name/);
    assert.ok(existsSync(root));
  });
});

describe('archives are bounded', () => {
  const write = (dir: string, entries: TarEntry[]) => {
    const file = path.join(dir, `a${Math.random().toString(36).slice(2)}.tar.gz`);
    writeFileSync(file, tarGz(entries));
    return file;
  };

  test('a tar.gz of zeros stops at the unpacked limit (ratio to its size), before the entry is written', async () => {
    const dir = tmpDir();
    const root = path.join(dir, 'apps');
    mkdirSync(root);
    const bomb = write(dir, [
      { name: 'ok', body: 'fine' },
      { name: 'zeros', body: '\0'.repeat(64 * 1024 ** 2) },
    ]);
    const limits = await archiveLimits(bomb, root, { ratio: 20, maxEntries: 1000 });
    assert.equal(limits.maxBytes, 16 * 1024 ** 2, 'a small archive gets the 16 MiB floor');
    const inst = new DirectoryInstaller(root, (f) => archiveLimits(f, root, { ratio: 20, maxEntries: 1000 }));
    await assert.rejects(
      inst.install(service('nav'), bomb),
      /archive entry 'zeros' takes the archive past the 16777216 bytes it may unpack to/,
    );
    assert.deepEqual(readdirSync(path.join(root, 'services', 'nav')), [], 'what was written is removed');
  });

  test('entry count, path length and an explicit max_unpacked are limits too', async () => {
    const dir = tmpDir();
    const root = path.join(dir, 'apps');
    mkdirSync(root);
    const many = write(
      dir,
      Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, body: 'x' })),
    );
    const inst = (o: { maxUnpacked?: number; maxEntries: number }) =>
      new DirectoryInstaller(root, (f) => archiveLimits(f, root, { ratio: 20, ...o }));
    await assert.rejects(
      inst({ maxEntries: 10 }).install(service('a'), many),
      /'f10' is past the 10 entries/,
    );
    await assert.rejects(
      inst({ maxEntries: 100, maxUnpacked: 20 }).install(service('b'), many),
      /'f20' takes the archive past the 20 bytes/,
    );
    const deep = write(dir, [{ name: `${'d/'.repeat(40)}${'n'.repeat(99)}`.slice(0, 99), body: 'x' }]);
    const tight = new DirectoryInstaller(root, async () => ({ maxBytes: 1e6, maxEntries: 10, maxPath: 50 }));
    await assert.rejects(tight.install(service('c'), deep), /has a path longer than 50 bytes/);
    await inst({ maxEntries: 100 }).install(service('d'), many);
    assert.equal(readdirSync(path.join(root, 'services', 'd', 'current')).length, 30);
  });

  test('through the updater: a bomb fails its item with the reason, nothing stays installed', async () => {
    const u = await updateAgent(SOTA.replace('root: sub/apps', 'root: sub/apps, max_unpacked: 1MB'));
    const bomb = {
      id: 'bomb',
      version: '1',
      ...u.http.serve('bomb.tgz', tarGz([{ name: 'z', body: '\0'.repeat(4 * 1024 ** 2) }])),
    };
    u.send(desired({ services: [bomb] }));
    await u.reach('sota', 'noUpdate');
    const st = u.manager.status() as {
      sota: { last: { items: { status: string; errorInfo?: { message: string } }[] } };
      installed: { status: string }[];
    };
    assert.equal(st.sota.last.items[0]!.status, 'error');
    assert.match(st.sota.last.items[0]!.errorInfo!.message, /past the 1048576 bytes/);
    assert.deepEqual(
      st.installed.map((i) => i.status),
      ['error'],
      'kept as failed, so the next desired status tries again',
    );
    assert.deepEqual(readdirSync(path.join(u.dir, 'sub', 'apps', 'services', 'bomb')), []);
  });
});

describe('a desired status cannot be replayed', () => {
  test('A, B, then A again: the old envelope is refused, and so after a restart of the store', async () => {
    const u = await updateAgent(SOTA);
    const a = signedDesired(desired({ sequence: 10, services: [u.app('nav', '1.0')] }), u.key.privatePem);
    const b = signedDesired(desired({ sequence: 11, services: [u.app('nav', '2.0')] }), u.key.privatePem);
    assert.equal(u.manager.receive(a, 'cloud').status, 'accepted');
    await u.reach('sota', 'noUpdate');
    assert.equal(u.manager.receive(b, 'cloud').status, 'accepted');
    await u.reach('sota', 'noUpdate');
    const replay = u.manager.receive(a, 'cloud');
    assert.equal(replay.status, 'rejected');
    assert.match(replay.reasons[0]!, /sequence 10 is not newer than the last one taken \(11\): a replay/);
    // The last one again (a desired file read at start) is taken and changes nothing.
    assert.equal(u.manager.receive(b, 'cloud').status, 'accepted');
    const installed = (u.manager.status() as { installed: { version: string }[] }).installed;
    assert.deepEqual(
      installed.map((i) => i.version),
      ['2.0'],
    );
  });

  test('a desired status without a sequence, or meant for another unit, is refused', async () => {
    const u = await updateAgent(SOTA);
    const none = u.manager.receive(
      signedDesired({ messageType: 'desiredStatus', services: [] }, u.key.privatePem),
      'cloud',
    );
    assert.match(none.reasons[0]!, /sequence/);
    const other = u.send(desired({ unit: ['u2', 'u3'], services: [] }));
    assert.match(other.reasons[0]!, /meant for u2, u3, not for this unit \(u1\)/);
    assert.equal(u.send(desired({ unit: 'u1', services: [] })).status, 'accepted');
  });

  test('`desired sign` stamps a sequence (the time in ms) when the file has none', () => {
    const dir = tmpDir();
    runCli(['keygen', '-o', path.join(dir, 'k')]);
    writeFileSync(path.join(dir, 'd.yaml'), 'messageType: desiredStatus\nservices: []\n');
    const before = Date.now();
    const r = runCli(['desired', 'sign', '-k', path.join(dir, 'k'), path.join(dir, 'd.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    const payload = JSON.parse(
      Buffer.from((JSON.parse(r.stdout) as { payload: string }).payload, 'base64').toString(),
    ) as { sequence: number };
    assert.ok(payload.sequence >= before && payload.sequence <= Date.now());
  });
});

describe('installer arguments cannot become options', () => {
  test('a version beginning with - is refused when the message is read', async () => {
    const u = await updateAgent(SOTA);
    for (const version of ['--help', '-t/dir'])
      assert.match(
        u.send(desired({ services: [{ ...u.app('nav', '1'), version }] })).reasons[0]!,
        /version: must be/,
      );
  });

  test('only http(s) URLs are taken: ftp:// and file:// are refused when the message is read', async () => {
    const u = await updateAgent(SOTA);
    for (const url of ['ftp://example.org/fw.bin', 'file:///etc/passwd'])
      assert.match(
        u.send(desired({ services: [{ ...u.app('nav', '1'), urls: [url] }] })).reasons[0]!,
        /services\.0\.urls\.0: must be an http:\/\/ or https:\/\/ URL/,
      );
  });

  test('a placeholder cannot be the program', () => {
    const { file } = configFile(
      () => `version: 1
updates:
  trust: { keys: [k.pub] }
  fota:
    installers: [{ command: ["{{ id }}", "{{ file }}"] }]
`,
    );
    const r = runCli(['validate', '-c', file]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /updates\.fota\.installers\[0\]\.command: the program \(first element\) cannot be a placeholder/,
    );
  });

  test('an empty command is a config error at its position, not a crash of the check for a placeholder', () => {
    const { file } = configFile(
      () => `version: 1
updates:
  trust: { keys: [k.pub] }
  fota:
    installers: [{ command: [] }]
`,
    );
    const r = runCli(['validate', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /:5:29 updates\.fota\.installers\[0\]\.command: needs at least 1 item/);
    assert.doesNotMatch(r.stderr, /PITCREW_UNCATALOGUED|placeholder/);
  });

  const item: ItemT = { ...service('ecu-main', '2.1.0'), section: 'components', type: 'ecu' };

  test('expect: exit code 0 is not enough when a file must exist or the output must match', async () => {
    const dir = tmpDir();
    const made = path.join(dir, 'made');
    const ok = new CommandInstaller(
      {
        command: ['sh', '-c', `echo flashed "$0"; touch ${made}-"$0"`, '{{ version }}'],
        expect: { file: `${made}-{{ version }}`, output: '^flashed 2\\.1\\.0' },
      },
      10_000,
      realClock,
    );
    await ok.install(item, '/f');
    const noFile = new CommandInstaller(
      { command: ['true'], expect: { file: `${made}-missing` } },
      10_000,
      realClock,
    );
    await assert.rejects(
      noFile.install(item, '/f'),
      /exit code 0, but .*made-missing \(expect\.file\) does not exist/,
    );
    const wrongOutput = new CommandInstaller(
      { command: ['sh', '-c', 'echo usage: cp SOURCE DEST'], expect: { output: '^flashed' } },
      10_000,
      realClock,
    );
    await assert.rejects(wrongOutput.install(item, '/f'), /does not match expect\.output \/\^flashed\//);
    // A removal has nothing to expect.
    await noFile.remove({ ...item, action: 'remove' });
  });
});

describe('a flood of junk', () => {
  test('20,000 junk desired statuses cost ten reports a minute; the next report says how many were held back', async () => {
    const u = await updateAgent(SOTA);
    for (let i = 0; i < 20_000; i++) u.manager.receive(Buffer.from(`junk ${i}`), 'cloud');
    assert.equal(u.tags('system/update/rejected').length, 10);
    await u.clock.advance(60_000);
    const next = u.manager.receive(Buffer.from('junk'), 'cloud');
    assert.equal(next.held, 19_990);
    assert.equal(u.events.filter((e) => e.tag === 'system/update/rejected').at(-1)!.data.held, 19_990);
    assert.equal(u.send(desired({ services: [] })).status, 'accepted', 'a good one is always taken');
  });
});
