/**
 * The health check after a config change (DESIGN §8), on a fake clock: a config that keeps its
 * services up (or meets `rollout.health.when`) for the window becomes the last known good; one
 * that does not is replaced by the previous config, with `system/config/reverted`.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfigSync } from '../../agent/config/load.js';
import { lastKnownGoodFile } from '../../agent/rollout/last-known-good.js';
import { Reloader } from '../../agent/rollout/reloader.js';
import { agentFor } from '../helpers/agent.js';

const config = (health: string, extra = '') => `version: 1
rollout: { health: ${health} }
services:
  obd: { driver: sim-vehicle, settings: {} }
${extra}`;

async function rig(health: string) {
  const h = agentFor(config(health));
  const file = path.join(h.dir, 'pitcrew.yaml');
  const reloader = new Reloader(
    h.agent.context(h.agent.config.rollout, { file, files: [file], raw: loadConfigSync(file, {}).raw }),
  );
  h.agent.use(reloader, 'rollout');
  after(() => h.agent.stop());
  await h.agent.start();
  return { ...h, file, reloader };
}

describe('health check after a config change', () => {
  it('a service that fails within the window: the previous config comes back', async () => {
    const { agent, clock, file, reloader, tags } = await rig('{ window: 1m }');
    writeFileSync(
      file,
      config(
        '{ window: 1m }',
        `  flaky: { driver: module, settings: { module: $FIXTURES/modules/flaky.mjs }, restart: { delay: 5s } }\n`,
      ).replaceAll('$FIXTURES', path.resolve(import.meta.dirname, '../fixtures')),
    );
    assert.equal(await reloader.reload('test'), true);
    assert.ok(agent.services.has('flaky'));
    await clock.advance(59_999);
    assert.ok(!tags('system/config/').includes('system/config/reverted'));
    await clock.advance(1);
    assert.ok(tags('system/config/').includes('system/config/reverted'));
    assert.ok(!agent.services.has('flaky'));
    const s = agent.status().config;
    assert.equal(s.status, 'error');
    assert.match(s.errorInfo!.reasons[0]!, /reverted: a service failed/);
    await reloader.lastKnownGood.settled();
    assert.ok(!readFileSync(lastKnownGoodFile(agent.dataDir), 'utf8').includes('flaky'));
  });

  it('a healthy config becomes the last known good only when its window has passed', async () => {
    const when = '{ window: 10s, when: { "==": [{ var: status.services.obd.state }, running] } }';
    const { agent, clock, file, reloader } = await rig(when);
    writeFileSync(
      file,
      config(when, 'reactor: { rules: [{ name: new_rule, on: x, do: [{ emit: { tag: y } }] }] }\n'),
    );
    await reloader.reload('test');
    const lkg = async () => {
      await reloader.lastKnownGood.settled();
      return readFileSync(lastKnownGoodFile(agent.dataDir), 'utf8');
    };
    assert.ok(!(await lkg()).includes('new_rule'));
    await clock.advance(10_000);
    assert.ok((await lkg()).includes('new_rule'));
    assert.equal(agent.status().config.status, 'installed');
  });

  it('a `when` that does not hold at the end of the window reverts', async () => {
    const when = '{ window: 5s, when: { "==": [{ var: status.cloud.state }, connected] } }';
    const { agent, clock, file, reloader, tags } = await rig(when);
    writeFileSync(
      file,
      config(when, 'reactor: { rules: [{ name: new_rule, on: x, do: [{ emit: { tag: y } }] }] }\n'),
    );
    await reloader.reload('test');
    assert.deepEqual(
      agent.reactor.list().map((r) => r.name),
      ['new_rule'],
    );
    await clock.advance(5000);
    assert.ok(tags('system/config/').includes('system/config/reverted'));
    assert.deepEqual(agent.reactor.list(), []);
  });
});
