/**
 * The bundle a unit applied is what it runs until the next one, through the installed command:
 * over a restart (a vehicle's every ignition), and over a change of the config file it lies on.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bundleUnit } from '../helpers/bundle-unit.js';
import { runBin } from '../helpers/cli.js';
import { tagged } from '../helpers/desired-unit.js';

const RULE0 = 'reactor:\n  rules:\n    - { name: r0, on: ping, do: [{ emit: { tag: pong/zero } }] }\n';
const CAR =
  'services:\n  car: { driver: sim-vehicle, settings: { seed: 3 }, workers: [{ name: w, interval: 1s, messages: [{ handler: query, args: { pid: SPEED }, returner: emit }] }] }\n';

describe('the applied bundle is kept', () => {
  it('over a restart and a change of the config file; a refused bundle leaves nothing behind', async () => {
    const unit = await bundleUnit('k-1', RULE0);
    const push = async (version: number, rules: string) => {
      const b = path.join(unit.dir, `b${version}.yaml`);
      writeFileSync(b, `version: ${version}\nrules:\n${rules}`);
      return (await unit.push(await unit.sign(b))).status;
    };
    const rules = async () =>
      (JSON.parse((await runBin(['rules', '-c', unit.file])).stdout) as { name: string }[]).map(
        (r) => r.name,
      );

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
});
