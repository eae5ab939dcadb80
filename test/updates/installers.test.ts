import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FakeClock, realClock } from '../../agent/core/clock.js';
import { InstallQueue } from '../../agent/updates/install-queue.js';
import type { ArchiveLimits } from '../../agent/updates/installers/archive.js';
import { CommandInstaller } from '../../agent/updates/installers/command.js';
import { DirectoryInstaller } from '../../agent/updates/installers/directory.js';
import type { ItemT } from '../../agent/updates/model.js';
import { callsIn, positionOf, traced } from '../helpers/syscalls.js';
import { tmpDir } from '../helpers/tmp.js';
import { type TarEntry, tarGz } from '../helpers/updates.js';

const service = (version: string): ItemT => ({
  section: 'services',
  action: 'install',
  id: 'nav',
  version,
  urls: [],
  status: 'pending',
});

/** Limits no test archive comes near. */
const roomy = async (): Promise<ArchiveLimits> => ({ maxBytes: 1e12, maxEntries: 1e6, maxPath: 4096 });

function archive(dir: string, entries: TarEntry[]): string {
  const file = path.join(dir, `a-${Math.random().toString(36).slice(2)}.tar.gz`);
  writeFileSync(file, tarGz(entries));
  return file;
}

describe('directory installer', () => {
  test('unpacks each version into its own directory, switches current, keeps the previous for rollback', async () => {
    const dir = tmpDir();
    const root = path.join(dir, 'apps');
    const inst = new DirectoryInstaller(root, roomy);
    const base = path.join(root, 'services', 'nav');
    for (const v of ['1.0', '1.1', '1.2']) {
      await inst.install(
        service(v),
        archive(dir, [
          { name: 'bin/', type: '5' },
          { name: 'bin/run', body: `v${v}` },
          { name: 'link', type: '2', link: 'bin/run' },
        ]),
      );
      assert.equal(readlinkSync(path.join(base, 'current')), v);
      assert.equal(readFileSync(path.join(base, 'current', 'link'), 'utf8'), `v${v}`);
    }
    assert.equal(readlinkSync(path.join(base, 'previous')), '1.1');
    assert.deepEqual(readdirSync(base).sort(), ['1.1', '1.2', 'current', 'previous']);
    // Removing the replaced version keeps it as the rollback; removing the current one removes the app.
    await inst.remove({ ...service('1.1'), action: 'remove' });
    assert.ok(existsSync(path.join(base, '1.1')));
    await inst.remove({ ...service('1.2'), action: 'remove' });
    assert.ok(!existsSync(base));
  });

  test('puts the files on the disk before current points at them, and the switch before the install ends (a power cut leaves one version whole)', async () => {
    const dir = tmpDir();
    const root = path.join(dir, 'apps');
    const inst = new DirectoryInstaller(root, roomy);
    const file = archive(dir, [{ name: 'run', body: 'v2' }]);
    const lines = await traced(['fsync', 'syncfs', 'rename', 'renameat', 'renameat2'], () =>
      inst.install(service('2.0'), file),
    );
    const seen = callsIn(lines, path.join(root, 'services', 'nav'));
    const at = (call: string) => positionOf(seen, call);
    const named = at('rename .2.0.unpacking 2.0');
    assert.ok(at('syncfs .2.0.unpacking') < named, 'the files on the disk before they are named');
    const switched = at('rename .current.new current');
    assert.equal(seen.at(-1), 'fsync .', 'the switch on the disk last');
    assert.ok(named < switched);
  });

  const evil: [string, TarEntry[], RegExp][] = [
    [
      'a path with ..',
      [
        { name: 'ok', body: 'x' },
        { name: '../../etc/evil', body: 'x' },
      ],
      /'\.\.\/\.\.\/etc\/evil' escapes/,
    ],
    ['an absolute path', [{ name: '/tmp/evil', body: 'x' }], /'\/tmp\/evil' escapes/],
    ['a symlink out of the root', [{ name: 'etc', type: '2', link: '/etc' }], /links to '\/etc'/],
    [
      'a relative symlink climbing out',
      [{ name: 'a/b', type: '2', link: '../../x' }],
      /links to '\.\.\/\.\.\/x'/,
    ],
    [
      'a hard link out of the root',
      [{ name: 'h', type: '1', link: '../outside' }],
      /links to '\.\.\/outside'/,
    ],
    ['a device', [{ name: 'dev', type: '3' }], /is a CharacterDevice/],
  ];
  for (const [what, entries, message] of evil)
    test(`rejects an archive with ${what}, installing nothing`, async () => {
      const dir = tmpDir();
      const root = path.join(dir, 'apps');
      mkdirSync(root);
      const inst = new DirectoryInstaller(root, roomy);
      await assert.rejects(
        inst.install(service('1.0'), archive(dir, entries)),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'PITCREW_UPDATE_ARCHIVE');
          assert.match(e.message, message);
          return true;
        },
      );
      assert.ok(!existsSync(path.join(root, 'services', 'nav', 'current')));
      assert.deepEqual(readdirSync(path.join(root, 'services', 'nav')), []);
      assert.ok(!existsSync(path.join(dir, 'etc', 'evil')) && !existsSync('/tmp/evil'));
    });

  test('a failed unpack leaves the running version in place', async () => {
    const dir = tmpDir();
    const inst = new DirectoryInstaller(path.join(dir, 'apps'), roomy);
    await inst.install(service('1.0'), archive(dir, [{ name: 'run', body: 'one' }]));
    await assert.rejects(inst.install(service('2.0'), archive(dir, [{ name: '../x', body: 'evil' }])));
    const current = path.join(dir, 'apps', 'services', 'nav', 'current');
    assert.equal(readlinkSync(current), '1.0');
    assert.equal(readFileSync(path.join(current, 'run'), 'utf8'), 'one');
  });
});

describe('command installer', () => {
  const item: ItemT = {
    section: 'components',
    action: 'install',
    id: 'ecu-main',
    type: 'ecu',
    version: '2.1.0',
    urls: [],
    status: 'pending',
  };

  test('fills in the placeholders and runs without a shell', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out');
    const inst = new CommandInstaller(
      {
        command: [
          'sh',
          '-c',
          `printf '%s|' "$@" > ${out}`,
          'sh',
          '{{ file }}',
          '{{id}}',
          '{{ version }}',
          '{{ type }}',
          '{{ action }}',
          '$HOME;x',
        ],
      },
      10_000,
      realClock,
    );
    await inst.install(item, '/d/file.bin');
    assert.equal(readFileSync(out, 'utf8'), '/d/file.bin|ecu-main|2.1.0|ecu|install|$HOME;x|');
  });

  test('a failing command gives its exit code and the tail of its stderr', async () => {
    const inst = new CommandInstaller(
      { command: ['sh', '-c', 'echo starting >&2; echo "flash failed: bad block" >&2; exit 3'] },
      10_000,
      realClock,
    );
    await assert.rejects(inst.install(item, '/f'), (e: Error & { code?: string; exitCode?: number }) => {
      assert.equal(e.code, 'PITCREW_UPDATE_INSTALL');
      assert.equal(e.exitCode, 3);
      assert.match(e.message, /exit code 3: starting\nflash failed: bad block$/);
      return true;
    });
  });

  test('a command past its timeout is killed', async () => {
    const clock = new FakeClock();
    const inst = new CommandInstaller({ command: ['sleep', '30'] }, 60_000, clock);
    const run = inst.install(item, '/f');
    await new Promise((r) => setTimeout(r, 50));
    await clock.advance(60_000);
    await assert.rejects(run, /killed after the 60000 ms timeout/);
  });

  test('a placeholder that names nothing fails the install, as any template does', async () => {
    const inst = new CommandInstaller({ command: ['echo', '{{ firmware }}'] }, 1000, realClock);
    await assert.rejects(
      inst.install(item, '/f'),
      (e: Error & { code?: string }) => e.code === 'PITCREW_TEMPLATE_MISSING',
    );
    assert.throws(
      () => new CommandInstaller({ command: ['echo', '{{ file'] }, 1000, realClock),
      /unbalanced/,
    );
  });

  test('a command that is not there says so', async () => {
    const inst = new CommandInstaller({ command: ['/nonexistent/flasher'] }, 1000, realClock);
    await assert.rejects(
      inst.install(item, '/f'),
      /\/nonexistent\/flasher cannot run: spawn \/nonexistent\/flasher ENOENT/,
    );
  });
});

describe('install queue', () => {
  test('runs steps one at a time, in order; one that throws is reported and the next still runs', async () => {
    const failures: unknown[] = [];
    const q = new InstallQueue((e) => failures.push(e));
    const ran: string[] = [];
    let release!: () => void;
    q.run(async () => {
      ran.push('a start');
      await new Promise<void>((r) => {
        release = r;
      });
      ran.push('a end');
    });
    q.run(async () => {
      ran.push('b');
      throw new Error('disk full');
    });
    q.run(async () => {
      ran.push('c');
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(ran, ['a start']);
    release();
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(ran, ['a start', 'a end', 'b', 'c']);
    assert.deepEqual(failures.map(String), ['Error: disk full']);
  });
});
