/**
 * The bundle a unit applied is what it runs until the next one, through the installed command:
 * over a restart (a vehicle's every ignition), and over a change of the config file it lies on.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bundleUnit } from '../helpers/bundle-unit.js';
import { runBin } from '../helpers/cli.js';
import { tagged } from '../helpers/desired-unit.js';

const RULE0 = 'reactor:\n  rules:\n    - { name: r0, on: ping, do: [{ emit: { tag: pong/zero } }] }\n';
const CAR =
  'services:\n  car: { driver: sim-vehicle, settings: { seed: 3 }, workers: [{ name: w, interval: 1s, messages: [{ handler: query, args: { pid: SPEED }, returner: emit }] }] }\n';

type Unit = Awaited<ReturnType<typeof bundleUnit>>;
const pusher = (unit: Unit) => async (version: number, rules: string) => {
  const b = path.join(unit.dir, `b${version}.yaml`);
  writeFileSync(b, `version: ${version}\nrules:\n${rules}`);
  return (await unit.push(await unit.sign(b))).status;
};
const rulesOf = (unit: Unit) => async () =>
  (JSON.parse((await runBin(['rules', '-c', unit.file])).stdout) as { name: string }[]).map((r) => r.name);
const rule = (name: string) => `  - { name: ${name}, on: ping, do: [{ emit: { tag: pong/${name} } }] }\n`;

describe('the applied bundle is kept', () => {
  it('over a restart and a change of the config file; a refused bundle leaves nothing behind', async () => {
    const unit = await bundleUnit('k-1', RULE0);
    const push = pusher(unit);
    const rules = rulesOf(unit);

    assert.equal(await push(1, '  - { name: r1, on: ping, do: [{ emit: { tag: pong/one } }] }\n'), 'applied');
    assert.deepEqual(await rules(), ['r1']);

    await unit.restart();
    assert.deepEqual(await rules(), ['r1']);
    await runBin(['emit', 'ping', '-c', unit.file]);
    await unit.agent.waitFor(tagged('pong/one'));

    // The config file gains a service: it runs, under the bundle's rules.
    unit.config(RULE0 + CAR);
    unit.agent.child.kill('SIGHUP');
    await unit.agent.waitFor(tagged('system/config/applied'));
    await unit.agent.waitFor(tagged('vehicle/car/speed'));
    assert.deepEqual(await rules(), ['r1']);

    // A bundle the unit refuses leaves the one it runs, there and after a restart.
    const refused = await push(
      2,
      '  - { name: r2, on: ping, do: [{ call: { service: nope, handler: x } }] }\n',
    );
    assert.equal(refused, 'rejected');
    assert.equal(existsSync(path.join(unit.dir, 'var/rollout/bundle-2')), false);
    await unit.restart();
    assert.deepEqual(await rules(), ['r1']);
    await unit.agent.waitFor(tagged('vehicle/car/speed'));
    await unit.stop();
  });

  it('by disk housekeeping, whatever times a clock not yet synced gave its files', async () => {
    // A unit without a real-time clock writes files with a wrong time until it has synced.
    const storage =
      'storage: { every: 100ms, keep: { bundles: { max_age: 1h }, last_known_good: { max_age: 1h } } }\n';
    const unit = await bundleUnit('k-2', RULE0 + storage);
    const push = pusher(unit);
    for (const v of [1, 2, 3]) assert.equal(await push(v, rule(`r${v}`)), 'applied');
    await unit.stop();
    const at = (rel: string, agoMs: number) => {
      const t = (Date.now() - agoMs) / 1000;
      utimesSync(path.join(unit.dir, 'var', rel), t, t);
    };
    const HOUR = 3_600_000;
    at('rollout/bundle-3', 3 * HOUR); // the bundle that runs, written before the clock was set
    at('rollout/bundle-2', 2 * HOUR);
    at('rollout/bundle-1', 60_000); // a bundle left behind, its time from after the clock was set
    await unit.start();
    const cleaned = JSON.parse(await unit.agent.waitFor(tagged('system/storage/cleaned'))) as {
      data: { kinds: Record<string, number> };
    };
    assert.deepEqual(cleaned.data.kinds, { bundles: 1 });
    const bundles = () =>
      readdirSync(path.join(unit.dir, 'var/rollout')).filter((f) => f.startsWith('bundle-'));
    assert.deepEqual(bundles().sort(), ['bundle-1', 'bundle-3', 'bundle-version.json']);
    // The last-known-good config, its time wrong, stays; an older copy past its age goes.
    writeFileSync(path.join(unit.dir, 'var/last-known-good.old.json'), '{}');
    at('last-known-good.old.json', 2 * HOUR);
    at('last-known-good.json', 3 * HOUR);
    const lkg = JSON.parse(
      await unit.agent.waitFor((l) => tagged('system/storage/cleaned')(l) && l.includes('last_known_good')),
    ) as { data: { kinds: Record<string, number> } };
    assert.deepEqual(lkg.data.kinds, { last_known_good: 1 });
    assert.ok(existsSync(path.join(unit.dir, 'var/last-known-good.json')));
    assert.equal(existsSync(path.join(unit.dir, 'var/last-known-good.old.json')), false);
    // The bundle that runs is there for the next start.
    await unit.restart();
    assert.deepEqual(await rulesOf(unit)(), ['r3']);
    await unit.stop();
  });

  it('by disk housekeeping: the bundle a revert would return to only while one can come (the health window)', async () => {
    const storage = 'storage: { every: 100ms, keep: { bundles: { max_age: 1h } } }\n';
    const unit = await bundleUnit('k-4', RULE0 + storage, 'health: { window: 1500ms }');
    const push = pusher(unit);
    const healthy = (v: number) =>
      unit.agent.waitFor(
        (l) => l.includes(`"version":${v}`) && l.includes('"healthy":true'),
        20_000,
        'stderr',
      );
    assert.equal(await push(1, rule('r1')), 'applied');
    await healthy(1);
    // Bundle 1, its time from before the clock was set, is what a revert of bundle 2 returns to.
    const old = (Date.now() - 2 * 3_600_000) / 1000;
    utimesSync(path.join(unit.dir, 'var/rollout/bundle-1'), old, old);
    assert.equal(await push(2, rule('r2')), 'applied');
    assert.ok(existsSync(path.join(unit.dir, 'var/rollout/bundle-1')), 'kept while bundle 2 is on probation');
    await healthy(2);
    const cleaned = JSON.parse(await unit.agent.waitFor(tagged('system/storage/cleaned'))) as {
      data: { kinds: Record<string, number> };
    };
    assert.deepEqual(cleaned.data.kinds, { bundles: 1 });
    assert.equal(existsSync(path.join(unit.dir, 'var/rollout/bundle-1')), false);
    assert.ok(existsSync(path.join(unit.dir, 'var/rollout/bundle-2')));
    await unit.stop();
  });

  it('over a power cut that tore its state file: the unit starts, runs the bundle and refuses a replay', async () => {
    const unit = await bundleUnit('k-3', RULE0);
    const push = pusher(unit);
    const rules = rulesOf(unit);
    const one = path.join(unit.dir, 'b1.yaml');
    writeFileSync(one, `version: 1\nrules:\n${rule('r1')}`);
    const captured = await unit.sign(one);
    assert.equal((await unit.push(captured)).status, 'applied');
    assert.equal(await push(2, rule('r2')), 'applied');
    await unit.stop();

    // What writing in place could leave: an empty state file, and a bundle half written.
    const rollout = path.join(unit.dir, 'var/rollout');
    writeFileSync(path.join(rollout, 'bundle-version.json'), '');
    mkdirSync(path.join(rollout, 'bundle-3.writing'));
    await unit.start();
    await unit.agent.waitFor((l) => l.includes('bundle-version.json cannot be read'), 20_000, 'stderr');
    assert.match(unit.agent.stderr(), /taking bundles newer than 2, running 2/);
    assert.deepEqual(JSON.parse(readFileSync(path.join(rollout, 'bundle-version.json'), 'utf8')), {
      version: 2,
      kept: 2,
    });
    assert.deepEqual(await rules(), ['r2']);
    const replay = await unit.push(captured);
    assert.equal(replay.status, 'rejected');
    assert.match(replay.errors[0]!, /bundle version 1 is not newer than the applied 2/);
    assert.equal(
      existsSync(path.join(rollout, 'bundle-3.writing')),
      false,
      'the half-written bundle cleared',
    );
    assert.equal(await push(3, rule('r3')), 'applied');
    await unit.restart();
    assert.deepEqual(await rules(), ['r3']);
    await unit.stop();
  });
});
