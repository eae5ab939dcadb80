/**
 * An Aos cloud's desired status, shaped as its Go code marshals it (test/fixtures/aos), through
 * the installed command and a real broker: taken inside the signed envelope, base64 digests
 * checked as SHA3-256, a component without an id, Go's unset schedule, and what the unit does not
 * act on said in the ack. Its artifact fields point at this test's HTTP server. With
 * `updates.protocol: aos`, the message as an Aos cloud sends it, unsigned, over mutual TLS.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { DesiredStatus } from '../../schemas/wire.js';
import { FIXTURES } from '../helpers/agent.js';
import { artifactServer } from '../helpers/artifact-server.js';
import { certificates } from '../helpers/certs.js';
import { runBin, startCli } from '../helpers/cli.js';
import { desiredUnit, tagged } from '../helpers/desired-unit.js';
import { Broker } from '../helpers/mosquitto.js';
import { configFile } from '../helpers/tmp.js';
import { tarGz } from '../helpers/updates.js';
import { waitFor } from '../helpers/wait.js';

type Artifact = Record<string, unknown>;
type AosDesired = Record<string, unknown> & {
  unitConfig?: unknown;
  components: Artifact[];
  services: Artifact[];
  layers: Artifact[];
};
const fixture = () =>
  JSON.parse(readFileSync(path.join(FIXTURES, 'aos/desired-status.aos.json'), 'utf8')) as AosDesired;
/** The digest field as an Aos cloud writes it: base64 of the SHA3-256 bytes. */
const sha3 = (b: Buffer) => createHash('sha3-256').update(b).digest('base64');

describe('Aos desired status', () => {
  it('reads the message as Go writes it: unset schedules, HH:MM:SS slots, base64 digests, components without id', () => {
    const d = DesiredStatus.parse({ ...fixture(), sequence: 1 });
    assert.equal(d.fotaSchedule, undefined, 'ttl 0, type "" and timetable null: no schedule of its own');
    assert.deepEqual(d.sotaSchedule, {
      type: 'timetable',
      ttl: 86400,
      timetable: [{ dayOfWeek: 1, timeSlots: [{ start: '02:00', end: '04:00' }] }],
    });
    assert.equal(d.components[1]!.id, undefined);
    assert.equal(d.components[0]!.sha256, 'XmeKQ2Rmea4Ow7WK11sP9FVQuw6pcAdXvwpaiQ8o5OM=');
    const bad = DesiredStatus.safeParse({
      ...fixture(),
      sequence: 1,
      fotaSchedule: { type: 'force', ttl: -1 },
    });
    assert.equal(bad.success, false);
    // A digest becomes a file name: nothing but a hex SHA-256 or 32 bytes in base64 is taken.
    const refused = [
      '../../../../etc/passwdAAAAAAAAAAAAAAAAAAAAAAA=',
      'A'.repeat(10_000),
      'AAEC',
      '/'.repeat(43),
    ];
    for (const sha256 of refused) {
      const withDigest = structuredClone(fixture());
      withDigest.components[0]!.sha256 = sha256;
      const r = DesiredStatus.safeParse({ ...withDigest, sequence: 1 });
      assert.equal(r.success, false, sha256.slice(0, 40));
    }
  });

  it('refuses instance and unit config names that could leave their place, and instance counts past the bound', () => {
    const base = { ...fixture(), sequence: 1 };
    const instance = (over: Record<string, unknown>) => ({
      ...base,
      instances: [{ serviceId: 's1', subjectId: 'subj1', priority: 0, numInstances: 1, labels: [], ...over }],
    });
    assert.equal(DesiredStatus.safeParse(instance({})).success, true);
    for (const bad of [
      { serviceId: '../../etc' },
      { serviceId: '/abs' },
      { subjectId: `a${'b'.repeat(200)}` },
      { subjectId: '.hidden' },
      { numInstances: 65 },
      { numInstances: -1 },
    ])
      assert.equal(DesiredStatus.safeParse(instance(bad)).success, false, JSON.stringify(bad));
    const unitConfig = base.unitConfig as Record<string, unknown>;
    for (const version of ['../1.0', '1/0', '-rf', 'v'.repeat(200)])
      assert.equal(
        DesiredStatus.safeParse({ ...base, unitConfig: { ...unitConfig, version } }).success,
        false,
        version,
      );
  });

  it('installs it end to end, verifying SHA3-256, and says what it does not act on', async () => {
    const { http, dir, agent, statuses, push, sign, file } = await desiredUnit(
      'aos-1',
      (d) => `download: { retry: { min: 50ms, max: 100ms, attempts: 2 } }
fota:
  schedule: { type: force }
  installers:
    - { command: [sh, -c, 'mkdir -p "$0/flashed" && cp "$1" "$0/flashed/$2-$3"', "${d}", "{{ file }}", "{{ id }}", "{{ version }}"] }
sota: { schedule: { type: force }, installer: { type: directory, root: apps } }`,
      { window: '20ms' },
    );

    // The fixture as it is, but its artifacts on this server and its SOTA schedule unset.
    const aos = fixture();
    const bodies = new Map<string, Buffer>();
    const point = (a: Record<string, unknown>, name: string, body: Buffer) => {
      http.serve(name, body);
      bodies.set(name, body);
      Object.assign(a, { urls: [`${http.base}/${name}`], sha256: sha3(body), size: body.length });
    };
    point(aos.components[0]!, 'c1.bin', randomBytes(3000));
    point(aos.components[1]!, 'c2.bin', randomBytes(3000));
    point(aos.services[0]!, 's1.tgz', tarGz([{ name: 'run', body: 's1' }]));
    point(aos.layers[0]!, 'l1.tgz', tarGz([{ name: 'run', body: 'l1' }]));
    aos.sotaSchedule = { ttl: 0, type: '', timetable: null };
    // One artifact's digest wrong (a SHA-256 where SHA3-256 is meant): it must not install.
    const bad = structuredClone(aos);
    bad.components[0]!.sha256 = createHash('sha256').update(bodies.get('c1.bin')!).digest('base64');

    const refused = await push(await sign(bad));
    assert.equal(refused.status, 'accepted');
    await agent.waitFor(tagged('system/update/fota/noUpdate'));
    assert.ok(!existsSync(path.join(dir, 'flashed', 'c1-1.0')), 'a digest that is not SHA3-256 of the file');

    const ack = await push(await sign(aos));
    assert.equal(ack.status, 'accepted', JSON.stringify(ack));
    assert.deepEqual(ack.ignored, [
      'decryptionInfo',
      'signs',
      'certificates',
      'certificateChains',
      'nodes',
      'unitConfig',
    ]);
    await waitFor(
      () =>
        existsSync(path.join(dir, 'flashed', 'c1-1.0')) &&
        existsSync(path.join(dir, 'flashed', 'bootloader-2.0')),
      'both components flashed',
      () => agent.stderr(),
    );
    assert.deepEqual(readFileSync(path.join(dir, 'flashed', 'c1-1.0')), bodies.get('c1.bin'));
    await waitFor(
      () =>
        existsSync(path.join(dir, 'apps/services/s1/current/run')) &&
        existsSync(path.join(dir, 'apps/layers/l1/current/run')),
      'the service and the layer installed',
      () => agent.stderr(),
    );
    // The full status has every Aos section, this unit as its one node.
    const full = statuses.find((m) => !m.isDeltaInfo)!;
    assert.deepEqual(
      [full.nodes?.map((n) => [n.id, n.status]), full.instances, full.unitSubjects],
      [[['aos-1', 'provisioned']], [], []],
    );
    // Each item's statuses in Aos's lifecycle order, progress only while downloading.
    await waitFor(
      () => statuses.some((m) => m.services?.some((i) => i.id === 's1' && i.status === 'installed')),
      's1 installed in the unit status',
    );
    const order = ['downloading', 'downloaded', 'pending', 'installing', 'installed'];
    const seen = statuses.flatMap((m) => m.services ?? []).filter((i) => i.id === 's1');
    const ranks = seen.map((i) => order.indexOf(i.status));
    assert.deepEqual(ranks, [...ranks].sort(), seen.map((i) => i.status).join(' → '));
    assert.ok(seen.every((i) => (i.status === 'downloading') === 'progress' in i));
    const st = JSON.parse((await runBin(['update', 'status', '-c', file])).stdout) as {
      desired: { ignored: string[] };
      installed: { id: string; status: string }[];
    };
    assert.deepEqual(st.desired.ignored, ack.ignored);
    assert.deepEqual(st.installed.map((i) => `${i.id}:${i.status}`).sort(), [
      'bootloader:installed',
      'c1:installed',
      'l1:installed',
      's1:installed',
    ]);
  });
});

describe('updates.protocol: aos', () => {
  it('is refused without a mutual-TLS link, naming the key and its place', async () => {
    const { file } = configFile(
      () => `version: 1
unit: { id: aos-3 }
cloud: { mqtt: { url: "mqtt://127.0.0.1:1883" } }
updates:
  protocol: aos
  sota: { installer: { type: directory, root: apps } }
`,
    );
    const r = await runBin(['validate', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /:5:13 .*updates\.protocol.*mutual TLS/);
  });

  it("takes an Aos cloud's own message, unsigned, over mutual TLS; one for another system is refused", async () => {
    const { dir, file } = configFile(() => '');
    const certs = certificates(dir);
    const broker = await Broker.start({ tls: { ca: certs.ca, ...certs.server } });
    after(() => broker.close());
    const http = await artifactServer();
    writeFileSync(
      file,
      `version: 1
unit: { id: aos-3, data_dir: var }
cloud: { mqtt: { url: "${broker.url}", ca: ${certs.ca}, cert: ${certs.client.cert}, key: ${certs.client.key}, reconnect: { min: 100ms, max: 1s } } }
updates:
  protocol: aos
  sota: { schedule: { type: force }, installer: { type: directory, root: apps } }
`,
    );
    const cloud = await broker.client({
      ca: readFileSync(certs.ca),
      cert: readFileSync(certs.client.cert),
      key: readFileSync(certs.client.key),
    });
    after(() => cloud.endAsync());
    const acks: Record<string, unknown>[] = [];
    await cloud.subscribeAsync('pitcrew/aos-3/ack', { qos: 1 });
    cloud.on('message', (_t, m) => acks.push(JSON.parse(m.toString())));
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor(tagged('system/cloud/connected'));

    const body = tarGz([{ name: 'run', body: 's1' }]);
    http.serve('s1.tgz', body);
    const aos = fixture();
    const message = (systemId: string) => ({
      header: { version: 5, systemId },
      data: {
        ...aos,
        components: [],
        layers: [],
        instances: [],
        sotaSchedule: { ttl: 0, type: '', timetable: null },
        services: [
          { ...aos.services[0]!, urls: [`${http.base}/s1.tgz`], sha256: sha3(body), size: body.length },
        ],
      },
    });
    const send = async (m: unknown) => {
      const n = acks.length;
      await cloud.publishAsync('pitcrew/aos-3/desired', JSON.stringify(m), { qos: 1 });
      await waitFor(
        () => acks.length > n,
        'the ack',
        () => agent.stderr(),
      );
      return acks.at(-1) as { status: string; reasons: string[] };
    };
    const other = await send(message('aos-9'));
    assert.equal(other.status, 'rejected');
    assert.match(other.reasons[0]!, /meant for aos-9, not for this unit/);
    const taken = await send(message('aos-3'));
    assert.equal(taken.status, 'accepted', JSON.stringify(taken));
    await waitFor(
      () => existsSync(path.join(dir, 'apps/services/s1/current/run')),
      's1 installed',
      () => agent.stderr(),
    );
  });
});
