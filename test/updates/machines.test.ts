import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { BLOCKING, desired, FAILING, FLASH, updateAgent } from '../helpers/update-agent.js';
import { tarGz } from '../helpers/updates.js';
import { waitFor } from '../helpers/wait.js';

const fotaForce = (installers = FLASH) =>
  `download: { dir: dl, retry: { min: 1m, max: 4m } }\nfota:\n  schedule: { type: force }\n  installers: [${installers}]`;
const sota = (schedule = 'force', when = '') =>
  `download: { dir: dl, retry: { min: 1m, max: 4m } }\nsota:\n  schedule: { type: ${schedule} }\n  installer: { type: directory, root: apps }${when ? `\n  when: ${when}` : ''}`;

describe('FOTA', () => {
  test('downloads, installs each component with its installer, and records it', async () => {
    const u = await updateAgent(fotaForce());
    const main = u.component('ecu-main', '2.1.0');
    const body = u.component('ecu-body', '1.0.0', 'ecu-body');
    const out = u.send(desired({ components: [main, body] }));
    assert.equal(out.status, 'accepted');
    assert.equal(out.fota, 'started');
    await u.reach('fota', 'noUpdate');
    assert.deepEqual(u.tags('system/update/fota/'), [
      'system/update/fota/downloading',
      'system/update/fota/readyToUpdate',
      'system/update/fota/updating',
      'system/update/fota/noUpdate',
    ]);
    assert.ok(u.flashed('ecu-main', '2.1.0') && u.flashed('ecu-body', '1.0.0'));
    const st = u.manager.status() as {
      installed: { id: string; status: string }[];
      fota: { error: unknown };
    };
    assert.deepEqual(st.installed.map((i) => `${i.id}:${i.status}`).sort(), [
      'ecu-body:installed',
      'ecu-main:installed',
    ]);
    assert.equal(st.fota.error, null);
    // The same desired status again finds nothing to retry; a new version updates only that component.
    assert.equal(u.send(desired({ components: [main, body] })).fota, 'nothing to do');
    assert.equal(u.send(desired({ components: [main] })).fota, 'nothing to do');
    u.send(desired({ components: [u.component('ecu-main', '2.2.0'), body] }));
    await u.reach('fota', 'noUpdate');
    const last = (u.manager.status() as { fota: { last: { items: { id: string }[] } } }).fota.last;
    assert.deepEqual(
      last.items.map((i) => i.id),
      ['ecu-main'],
    );
  });

  test('one component that cannot be downloaded aborts the whole update', async () => {
    const u = await updateAgent(fotaForce());
    const good = u.component('ecu-a', '1.0');
    u.send(
      desired({ components: [good, { ...u.component('ecu-b', '1.0'), urls: [`${u.http.base}/missing`] }] }),
    );
    await u.reach('fota', 'noUpdate');
    const st = u.manager.status() as {
      fota: {
        error: { message: string };
        last: { items: { id: string; status: string; errorInfo?: { message: string } }[] };
      };
    };
    assert.match(st.fota.error.message, /HTTP 404/);
    assert.ok(!u.flashed('ecu-a', '1.0'), 'nothing installed');
    assert.ok(!u.tags('system/update/fota/').includes('system/update/fota/updating'));
    assert.deepEqual(
      st.fota.last.items.map((i) => i.status),
      ['error', 'error'],
    );
  });

  test('an installer error stops the update with the exit code and stderr; later components are not flashed', async () => {
    const u = await updateAgent(fotaForce(`${FAILING}, ${FLASH}`));
    u.send(desired({ components: [u.component('bad-1', '1', 'bad'), u.component('ecu-2', '1')] }));
    await u.reach('fota', 'noUpdate');
    const st = u.manager.status() as {
      fota: { error: { message: string; exitCode: number } };
      installed: { id: string; status: string; errorInfo?: { exitCode?: number } }[];
    };
    assert.match(st.fota.error.message, /exit code 3: flash failed: bad block/);
    assert.equal(st.fota.error.exitCode, 3);
    assert.ok(!u.flashed('ecu-2', '1'));
    assert.deepEqual(
      st.installed.map((i) => `${i.id}:${i.status}:${i.errorInfo?.exitCode}`),
      ['bad-1:error:3'],
    );
  });
});

describe('SOTA', () => {
  test('installs services and layers, then removes a service no longer desired', async () => {
    const u = await updateAgent(sota());
    const layer = { ...u.app('base', '1'), digest: 'sha256:aaaa' };
    u.send(desired({ services: [u.app('nav', '1.4.0'), u.app('media', '2.0')], layers: [layer] }));
    await u.reach('sota', 'noUpdate');
    const apps = path.join(u.dir, 'apps');
    assert.equal(readFileSync(path.join(apps, 'services/nav/current/run'), 'utf8'), 'nav 1.4.0');
    assert.equal(readFileSync(path.join(apps, 'layers/base/current/run'), 'utf8'), 'base 1');
    // nav updated, media dropped.
    u.send(desired({ services: [u.app('nav', '1.5.0')], layers: [layer] }));
    await u.reach('sota', 'noUpdate');
    assert.equal(readlinkSync(path.join(apps, 'services/nav/current')), '1.5.0');
    assert.equal(readlinkSync(path.join(apps, 'services/nav/previous')), '1.4.0');
    assert.ok(!existsSync(path.join(apps, 'services/media')));
    const st = u.manager.status() as {
      installed: { id: string; version: string }[];
      sota: { last: { items: { id: string; action: string; status: string }[] } };
    };
    assert.deepEqual(st.installed.map((i) => `${i.id}@${i.version}`).sort(), ['base@1', 'nav@1.5.0']);
    assert.deepEqual(
      st.sota.last.items.map((i) => `${i.action} ${i.id} ${i.status}`),
      ['install nav installed', 'remove nav removed', 'remove media removed'],
    );
  });

  test('only removals: straight to readyToUpdate, no download', async () => {
    const u = await updateAgent(sota('trigger'));
    u.send(desired({ services: [u.app('nav', '1')] }));
    await u.reach('sota', 'readyToUpdate');
    u.manager.startUpdate('sota');
    await u.reach('sota', 'noUpdate');
    const before = u.tags('system/update/sota/').length;
    u.send(desired({ services: [] }));
    await u.reach('sota', 'readyToUpdate');
    assert.deepEqual(u.tags('system/update/sota/').slice(before), ['system/update/sota/readyToUpdate']);
  });

  test('one download that fails does not stop the others', async () => {
    const u = await updateAgent(sota());
    u.send(
      desired({
        services: [u.app('nav', '1'), { ...u.app('broken', '1'), urls: [`${u.http.base}/missing`] }],
      }),
    );
    await u.reach('sota', 'noUpdate');
    const st = u.manager.status() as { sota: { error: { message: string } }; installed: { id: string }[] };
    assert.deepEqual(
      st.installed.map((i) => i.id),
      ['nav'],
    );
    assert.match(st.sota.error.message, /1 of 2 failed: .*HTTP 404/);
  });

  test('the when gate holds the install until the vehicle stops', async () => {
    const u = await updateAgent(sota('force', '{ "==": [{ var: signals.obd.speed }, 0] }'));
    u.agent.signals.set('obd', 'speed', 48, u.clock.now());
    u.send(desired({ services: [u.app('nav', '1')] }));
    await u.reach('sota', 'readyToUpdate');
    u.agent.signals.set('obd', 'speed', 12, u.clock.now());
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(u.state('sota'), 'readyToUpdate');
    u.agent.signals.set('obd', 'speed', 0, u.clock.now());
    await u.reach('sota', 'noUpdate');
    assert.ok(existsSync(path.join(u.dir, 'apps/services/nav/current/run')));
  });
});

describe('schedules, triggers, cancel, ttl', () => {
  test('trigger waits for a start: the update action of a rule, or the API', async () => {
    const u = await updateAgent(
      sota('trigger'),
      'reactor:\n  rules:\n    - name: install-when-parked\n      on: app/parked\n      do: [{ update: { start: sota } }]\n',
    );
    u.send(desired({ services: [u.app('nav', '1')] }));
    await u.reach('sota', 'readyToUpdate');
    await u.clock.advance(86_400_000);
    assert.equal(u.state('sota'), 'readyToUpdate');
    u.agent.emit('app/parked');
    await u.reach('sota', 'noUpdate');
    assert.throws(() => u.manager.startUpdate('sota'), /cannot start the sota update: it is noUpdate/);
    assert.throws(
      () => u.manager.startUpdate('fota'),
      (e: Error & { code?: string }) => e.code === 'PITCREW_UPDATE_OFF',
    );
  });

  test('timetable: ready at noon, installed when the night slot starts', async () => {
    const u = await updateAgent(
      sota(
        'timetable, timetable: [{ day_of_week: [1,2,3,4,5], time_slots: [{ start: "02:00", end: "04:00" }] }]',
      ),
    );
    u.send(desired({ services: [u.app('nav', '1')] }));
    await u.reach('sota', 'readyToUpdate');
    await u.clock.advance(14 * 3_600_000 - 60_000);
    assert.equal(u.state('sota'), 'readyToUpdate');
    await u.clock.advance(60_000);
    await u.reach('sota', 'noUpdate');
  });

  test("the desired status's schedule overrides the config's; a schedule-only change reschedules in place", async () => {
    const u = await updateAgent(sota('force'));
    const nav = u.app('nav', '1');
    assert.equal(u.send(desired({ services: [nav], sotaSchedule: { type: 'trigger' } })).sota, 'started');
    await u.reach('sota', 'readyToUpdate');
    const ready = u.tags('system/update/sota/readyToUpdate').length;
    assert.equal(u.send(desired({ services: [nav], sotaSchedule: { type: 'force' } })).sota, 'rescheduled');
    await u.reach('sota', 'noUpdate');
    assert.equal(
      u.tags('system/update/sota/readyToUpdate').length,
      ready + 1,
      'announced again, not re-downloaded',
    );
    assert.equal(u.tags('system/update/sota/downloading').length, 1);
  });

  test('cancel: from downloading and readyToUpdate only; partial files are deleted', async () => {
    const u = await updateAgent(sota('trigger'));
    assert.throws(() => u.manager.cancel('sota'), /cannot cancel the sota update: it is noUpdate/);
    const slow = {
      id: 'nav',
      version: '1',
      ...u.http.serve('slow.tgz', Buffer.alloc(400_000), { kind: 'slow', chunk: 1000, everyMs: 20 }),
    };
    u.send(desired({ services: [slow] }));
    await u.reach('sota', 'downloading');
    await waitFor(() => {
      const item = (u.manager.status() as { sota: { update: { items: { bytes?: number }[] } } }).sota.update
        .items[0]!;
      return (item.bytes ?? 0) > 0;
    }, 'download progress in status');
    u.manager.cancel('sota');
    assert.equal(u.state('sota'), 'noUpdate');
    const st = u.manager.status() as {
      sota: { error: { message: string }; last: { items: { status: string }[] } };
    };
    assert.match(st.sota.error.message, /cancelled: by request/);
    assert.deepEqual(
      st.sota.last.items.map((i) => i.status),
      ['error'],
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(!existsSync(path.join(u.dir, 'dl', `${slow.sha256}.part`)));
    // From readyToUpdate.
    u.send(desired({ services: [u.app('nav', '2')] }));
    await u.reach('sota', 'readyToUpdate');
    u.manager.cancel('sota');
    assert.equal(u.state('sota'), 'noUpdate');
  });

  test('ttl: an update not installed within it is given up', async () => {
    const u = await updateAgent(`ttl: 2d\n${sota('trigger')}`);
    u.send(desired({ services: [u.app('nav', '1')] }));
    await u.reach('sota', 'readyToUpdate');
    await u.clock.advance(2 * 86_400_000 - 1000);
    assert.equal(u.state('sota'), 'readyToUpdate');
    await u.clock.advance(1000);
    assert.equal(u.state('sota'), 'noUpdate');
    const st = u.manager.status() as { sota: { error: { message: string } } };
    assert.match(st.sota.error.message, /cancelled: not installed within its ttl of 172800 s/);
    // The desired status's own ttl (seconds) overrides the config's.
    u.send(desired({ services: [u.app('nav', '2')], sotaSchedule: { type: 'trigger', ttl: 60 } }));
    await u.reach('sota', 'readyToUpdate');
    await u.clock.advance(60_000);
    assert.equal(u.state('sota'), 'noUpdate');
  });

  test('ttl: a clock set back does not stretch it (armed again at a schedule change, or a start)', async () => {
    const u = await updateAgent(sota('trigger'));
    const nav = u.app('nav', '1');
    u.send(desired({ services: [nav], sotaSchedule: { type: 'trigger', ttl: 60 } }));
    await u.reach('sota', 'readyToUpdate');
    await u.clock.advance(30_000);
    // The clock corrected a day back (a GNSS week rollover, a unit restored ahead), then the schedule changes.
    u.clock.jump(-86_400_000);
    assert.equal(
      u.send(desired({ services: [nav], sotaSchedule: { type: 'trigger', ttl: 120 } })).sota,
      'rescheduled',
    );
    await u.clock.advance(119_999);
    assert.equal(u.state('sota'), 'readyToUpdate');
    await u.clock.advance(1);
    assert.equal(u.state('sota'), 'noUpdate');
  });
});

type Item = { id: string; version: string; status: string; bytes?: number; errorInfo?: { message: string } };
type Machines = Record<'fota' | 'sota', { update: { items: Item[] } | null; last?: { items: Item[] } }> & {
  installed: Item[];
};
const machines = (u: { manager: { status(): unknown } }) => u.manager.status() as Machines;
/** An item of the update in progress. */
const itemOf = (u: { manager: { status(): unknown } }, kind: 'fota' | 'sota', id: string) =>
  machines(u)[kind].update?.items.find((i) => i.id === id);
const installed = (u: { manager: { status(): unknown } }, id: string) =>
  machines(u).installed.find((i) => i.id === id)?.status;

describe('a new desired status in each state', () => {
  test('downloading: replaced (downloads aborted, items error), each newer one in turn', async () => {
    const u = await updateAgent(sota('force'));
    const archive = tarGz([{ name: 'run', body: 'nav 1' }]);
    const slow = {
      id: 'nav',
      version: '1',
      ...u.http.serve('slow1.tgz', archive, { kind: 'slow', chunk: 20, everyMs: 20 }),
    };
    u.send(desired({ services: [slow] }));
    await u.reach('sota', 'downloading');
    await waitFor(() => (itemOf(u, 'sota', 'nav')?.bytes ?? 0) > 0, 'the slow download under way');
    const slowTwo = {
      ...slow,
      version: '2',
      ...u.http.serve('slow2.tgz', tarGz([{ name: 'run', body: 'nav 2' }]), {
        kind: 'slow',
        chunk: 20,
        everyMs: 20,
      }),
    };
    assert.equal(u.send(desired({ services: [slowTwo] })).sota, 'replaced');
    const cancelled = machines(u).sota.last!.items;
    assert.deepEqual(
      cancelled.map((i) => [i.version, i.status, i.errorInfo?.message]),
      [['1', 'error', 'cancelled: replaced by a newer desired status']],
    );
    assert.equal(u.state('sota'), 'downloading');
    assert.equal(u.send(desired({ services: [u.app('nav', '3')] })).sota, 'replaced');
    await u.reach('sota', 'noUpdate');
    assert.equal(readlinkSync(path.join(u.dir, 'apps/services/nav/current')), '3');
    assert.ok(
      !existsSync(path.join(u.dir, 'apps/services/nav/1')) &&
        !existsSync(path.join(u.dir, 'apps/services/nav/2')),
    );
    // The aborted downloads' partial files go once their requests have ended.
    await waitFor(
      () => readdirSync(path.join(u.dir, 'dl')).length === 0,
      'no download left behind',
      () => readdirSync(path.join(u.dir, 'dl')).join(' '),
    );
  });

  test('downloading: a newer one that wants the same artifact resumes its partial file', async () => {
    const u = await updateAgent(sota('force'));
    const body = tarGz([{ name: 'run', body: randomBytes(3000).toString('hex') }]);
    const slow = {
      id: 'nav',
      version: '1',
      ...u.http.serve('nav1.tgz', body, { kind: 'slow', chunk: 200, everyMs: 20 }),
    };
    u.send(desired({ services: [slow] }));
    await waitFor(() => (itemOf(u, 'sota', 'nav')?.bytes ?? 0) >= 400, 'part of the download');
    // The same service and a new one: the first's partial download is kept and resumed.
    assert.equal(u.send(desired({ services: [slow, u.app('map', '1')] })).sota, 'replaced');
    await u.reach('sota', 'noUpdate');
    const asked = u.http.requests.filter((r) => r.path === '/nav1.tgz');
    assert.equal(asked.length, 2);
    assert.match(asked[1]!.range ?? '', /^bytes=[1-9]\d*-$/, 'the second request resumes');
    assert.equal(readlinkSync(path.join(u.dir, 'apps/services/nav/current')), '1');
  });

  test('readyToUpdate: other items replace it; the same items rescheduled', async () => {
    const u = await updateAgent(sota('trigger'));
    u.send(desired({ services: [u.app('nav', '1')] }));
    await u.reach('sota', 'readyToUpdate');
    assert.equal(u.send(desired({ services: [u.app('nav', '2')] })).sota, 'replaced');
    await waitFor(() => u.tags('system/update/sota/readyToUpdate').length === 2, 'the new update ready');
    u.manager.startUpdate('sota');
    await u.reach('sota', 'noUpdate');
    assert.equal(readlinkSync(path.join(u.dir, 'apps/services/nav/current')), '2');
    assert.ok(!existsSync(path.join(u.dir, 'apps/services/nav/1')));
  });

  test('noUpdate: the same desired status again retries what failed, and only that', async () => {
    const u = await updateAgent(sota('force'));
    // Not published yet when the unit first asks (404, which is not retried).
    const map = {
      id: 'map',
      version: '1',
      ...u.http.serve('map1.tgz', tarGz([{ name: 'run', body: 'map 1' }]), {
        kind: 'status',
        status: 404,
        times: 1,
      }),
    };
    const nav = u.app('nav', '1');
    u.send(desired({ services: [nav, map] }));
    await u.reach('sota', 'noUpdate');
    assert.equal(installed(u, 'nav'), 'installed');
    assert.equal(installed(u, 'map'), undefined);
    assert.equal(machines(u).sota.last!.items.find((i) => i.id === 'map')?.status, 'error');
    // Published now: the cloud sends the same desired status again.
    assert.equal(u.send(desired({ services: [nav, map] })).sota, 'started');
    await waitFor(() => installed(u, 'map') === 'installed', 'the retried service');
    assert.deepEqual(
      machines(u).sota.last!.items.map((i) => i.id),
      ['map'],
    );
  });

  test('updating: waits in the pending slot; FOTA and SOTA installs never overlap', async () => {
    // SOTA on trigger, started once FOTA is installing: the order the queue sees is fixed.
    const u = await updateAgent(`${fotaForce(BLOCKING)}\n${sota('trigger').split('\n').slice(1).join('\n')}`);
    const nav = u.app('nav', '1');
    u.send(desired({ components: [u.component('ecu-main', '1')], services: [nav] }));
    await u.reach('fota', 'updating');
    await u.reach('sota', 'readyToUpdate');
    u.manager.startUpdate('sota');
    assert.equal(
      u.send(desired({ components: [u.component('ecu-main', '2')], services: [nav] })).fota,
      'pending',
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(u.state('sota'), 'readyToUpdate', 'SOTA waits for the FOTA install');
    u.release();
    await waitFor(() => u.flashed('ecu-main', '2'), 'the pending FOTA update');
    await u.reach('sota', 'noUpdate');
    const order = u.tags('system/update/').filter((t) => t.endsWith('/updating') || t.endsWith('/noUpdate'));
    assert.deepEqual(order.slice(0, 4), [
      'system/update/fota/updating',
      'system/update/fota/noUpdate',
      'system/update/sota/updating',
      'system/update/sota/noUpdate',
    ]);
  });
});
