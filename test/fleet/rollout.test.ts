/**
 * `pitcrew fleet` through the installed command against a real mosquitto and whole agents (the
 * built code, many in one process): a rollout in waves that aborts when a wave fails too much and
 * rolls the units that took it back; a unit offline during its wave takes the bundle when it
 * returns; an interrupted rollout resumes; `fleet status` shows the fleet as the broker does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt, { type IConnackPacket } from 'mqtt';
import { keygen, signEnvelope } from '../../agent/rollout/signing.js';
import { runBin, startCli } from '../helpers/cli.js';
import { startFleet } from '../helpers/fleet.js';
import { Broker } from '../helpers/mosquitto.js';

const key = keygen();
let broker: Broker;
let dir: string;

/** A signed bundle of one rule, written to a file: what `pitcrew bundle sign` makes. */
function bundle(version: number): string {
  const payload = {
    version,
    rules: [{ name: `r${version}`, on: 'ping', do: [{ emit: { tag: `pong/${version}` } }] }],
  };
  const file = path.join(dir, `bundle-${version}.json`);
  writeFileSync(file, JSON.stringify(signEnvelope(Buffer.from(JSON.stringify(payload)), key.privatePem)));
  return file;
}

const flags = () => ['--url', broker.url, '--state', path.join(dir, 'fleet.db')];
/** `pitcrew fleet rollout` of bundle `version` to the fleet under pitcrew/+. */
const rolloutOf = (version: number) => [
  'fleet',
  'rollout',
  ...flags(),
  '--prefix',
  'pitcrew/+',
  '--bundle',
  bundle(version),
];
type Report = {
  id: string;
  state: string;
  units: { unit: string; wave: number; state: string; detail: string | null }[];
};
type Line = {
  unit: string;
  online: boolean | null;
  bundle: number | null;
  last_ack: { version: number; status: string } | null;
};

async function fleetStatus(prefix = 'pitcrew/+'): Promise<Map<string, Line>> {
  const r = await runBin(['fleet', 'status', ...flags().slice(0, 2), '--prefix', prefix, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return new Map(
    r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line)
      .map((l) => [l.unit, l]),
  );
}

before(async () => {
  broker = await Broker.start({ logSubscriptions: true });
  dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-fleet-'));
  writeFileSync(path.join(dir, 'fleet.key.pub'), key.publicKey);
});
after(async () => {
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pitcrew fleet', () => {
  it('50 units in waves: the wave that crosses --max-failures aborts the rest, --rollback returns those that took it', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `van-${String(i).padStart(2, '0')}`);
    // A tenth, all in the third wave (units 5..24), fail every new config's health check.
    const failing = new Set(ids.slice(10, 15));
    const fleet = await startFleet(
      path.join(dir, 'a'),
      broker.url,
      path.join(dir, 'fleet.key.pub'),
      ids.map((id) => ({ id, health: failing.has(id) ? '{ window: 1s, when: false }' : '{ window: 1s }' })),
    );
    after(() => fleet.close());
    const list = path.join(dir, 'vans.txt');
    writeFileSync(list, `# in wave order\n${ids.join('\n')}\n`);
    const r = await runBin([
      ...rolloutOf(1),
      '--units',
      list,
      '--waves',
      '1%,10%,50%,100%',
      '--max-failures',
      '5%',
      '--wave-timeout',
      '30s',
      '--rollback',
      bundle(2),
      '--json',
    ]);
    assert.equal(r.code, 1, 'not every unit applied it');
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.state, 'aborted');
    assert.match(r.stderr, /aborted: 5 of 20 unit\(s\) failed in wave 3/);
    const by = new Map(report.units.map((u) => [u.unit, u]));
    for (const id of failing) {
      assert.equal(by.get(id)!.state, 'failed');
      assert.match(by.get(id)!.detail!, /^reverted: the health condition did not hold/);
    }
    const took = ids.slice(0, 25).filter((id) => !failing.has(id));
    for (const id of took) assert.equal(by.get(id)!.state, 'rolled_back', id);
    for (const id of ids.slice(25)) assert.equal(by.get(id)!.state, 'skipped', id);

    // As the broker sees it: those rolled back run bundle 2, the failing ones reverted 1, the rest nothing.
    const seen = await fleetStatus();
    for (const id of took)
      assert.deepEqual([seen.get(id)!.bundle, seen.get(id)!.last_ack?.status], [2, 'applied'], id);
    for (const id of failing)
      assert.deepEqual(seen.get(id)!.last_ack, { version: 1, status: 'reverted' }, id);
    for (const id of ids.slice(25))
      assert.deepEqual([seen.get(id)!.bundle, seen.get(id)!.last_ack], [null, null], id);
    for (const id of ids) assert.equal(seen.get(id)!.online, true);

    const listed = await runBin(['fleet', 'rollouts', '--state', path.join(dir, 'fleet.db'), '--json']);
    const rollout = JSON.parse(listed.stdout.split('\n')[0]!);
    assert.deepEqual([rollout.id, rollout.state, rollout.wave], [report.id, 'aborted', '3/4']);
    await fleet.close();
  });

  it('a unit offline in its wave takes the bundle when it returns; an interrupted rollout resumes', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `bus-${i}`);
    const fleet = await startFleet(
      path.join(dir, 'b'),
      broker.url,
      path.join(dir, 'fleet.key.pub'),
      ids.map((id) => ({ id })),
    );
    after(() => fleet.close());
    const select = '{"in": ["bus-", {"var": "unit"}]}';

    // bus-2 is in the second wave and offline: the rollout goes on without it, then waits for it.
    await fleet.stop('bus-2');
    // The bus-* units selected by their fleet status; waves of counts and shares.
    const roll = (version: number, waves: string) =>
      startCli([...rolloutOf(version), '--select', select, '--waves', waves, '--json'], { runner: 'bin' });
    const first = roll(3, '1,50%,100%');
    await first.waitFor((l) => l.includes('not reached yet'), 60_000, 'stderr');
    await fleet.start('bus-2');
    assert.equal(await first.exited, 0, first.stderr());
    const done = JSON.parse(first.lines.join('\n')) as Report;
    assert.deepEqual(new Set(done.units.map((u) => u.state)), new Set(['applied']));

    // Interrupted (kill -9) while bus-4 is away; resumed once it is back.
    await fleet.stop('bus-4');
    const second = roll(4, '50%,100%');
    await second.waitFor((l) => l.includes('not reached yet'), 60_000, 'stderr');
    const id = /rollout ([0-9a-f]{8}):/.exec(second.stderr())![1]!;
    second.child.kill('SIGKILL');
    await second.exited;
    const listed = await runBin(['fleet', 'rollouts', '--state', path.join(dir, 'fleet.db'), '--json']);
    const kept = listed.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.id === id);
    assert.deepEqual([kept.state, kept.units], ['running', { applied: 5, waiting: 1 }]);
    await fleet.start('bus-4');
    const resumed = await runBin(['fleet', 'rollout', ...flags(), '--resume', id, '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const end = JSON.parse(resumed.stdout) as Report;
    assert.deepEqual(
      [end.id, end.state, end.units.filter((u) => u.state === 'applied').length],
      [id, 'done', 6],
    );
    const seen = await fleetStatus();
    for (const u of ids) assert.equal(seen.get(u)!.bundle, 4, u);
    await fleet.close();

    // Live acknowledgements came through the rollout's shared subscription; the plain ones that
    // read the retained acks were dropped once read. The ended rollout left no session behind.
    const mine = broker
      .subscriptions()
      .split('\n')
      .map((l) => l.replace(/^\d+: /, ''))
      .filter((l) => l.startsWith(`pitcrew-fleet-${id} `));
    const ack = 'pitcrew/+/ack';
    const subscribed = (f: string) => mine.lastIndexOf(`pitcrew-fleet-${id} 1 ${f}`);
    const unsubscribed = (f: string) => mine.lastIndexOf(`pitcrew-fleet-${id} ${f}`);
    assert.ok(subscribed(`$share/pitcrew-fleet-${id}/${ack}`) >= 0, mine.join('\n'));
    assert.ok(unsubscribed(`$share/pitcrew-fleet-${id}/${ack}`) < 0, mine.join('\n'));
    assert.ok(unsubscribed(ack) > subscribed(ack) && subscribed(ack) >= 0, mine.join('\n'));
    const probe = mqtt.connect(broker.url, {
      clientId: `pitcrew-fleet-${id}`,
      clean: false,
      protocolVersion: 5,
    });
    const connack = await new Promise<IConnackPacket>((resolve) => probe.once('connect', resolve));
    await probe.endAsync();
    assert.equal(connack.sessionPresent, false, 'the ended rollout left no session');
  });
});
