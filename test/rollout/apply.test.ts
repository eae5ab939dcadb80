/**
 * Applying a new config to a running agent (DESIGN §8): only what changed is touched, the rule
 * set is swapped between two events, `for:` timers of unchanged rules keep running.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { diffConfigs } from '../../agent/config/diff.js';
import { loadConfigSync } from '../../agent/config/load.js';
import { LIVE_SECTIONS } from '../../agent/runtime/extensions.js';
import { agentFor } from '../helpers/agent.js';

const BASE = `version: 1
services:
  a:
    driver: sim-vehicle
    settings: { seed: 1 }
    workers: [{ name: w, interval: 1s, messages: [{ handler: query, args: { pid: SPEED }, returner: signals }] }]
  b:
    driver: sim-vehicle
    settings: { seed: 2 }
    workers: [{ name: w, interval: 1s, messages: [{ handler: query, args: { pid: SPEED }, returner: signals }] }]
reactor:
  rules:
    - { name: held, on: x/hold, when: { "==": [{ var: event.data.on }, true] }, for: 1m, do: [{ emit: { tag: out/held } }] }
    - { name: counter, on: "load/#", do: [{ emit: { tag: out/old } }] }
`;

/** Another config, in the agent's own directory (so relative paths resolve alike). */
function next(dir: string, yaml: string) {
  const file = path.join(dir, 'next.yaml');
  writeFileSync(file, yaml);
  return loadConfigSync(file, {}).config;
}

describe('apply', () => {
  it('restarts only the services that changed; the others keep their workers; rules swap, for: timers survive', async () => {
    const { agent, clock, tags, dir } = agentFor(BASE);
    after(() => agent.stop());
    await agent.start();
    agent.emit('x/hold', { on: true });
    await clock.advance(30_000);
    const before = agent.status().services;
    const changed = BASE.replace('seed: 2', 'seed: 3')
      .replace('out/old', 'out/new')
      .concat('    - { name: fresh, on: x/fresh, do: [{ emit: { tag: out/fresh } }] }\n')
      .replace(/ {2}b:\n/, '  c:\n    driver: sim-vehicle\n    settings: {}\n  b:\n');
    const diff = await agent.apply(next(dir, changed));
    assert.deepEqual(diff.services, { added: ['c'], removed: [], changed: ['b'], unchanged: ['a'] });
    assert.deepEqual(diff.rules, {
      added: ['fresh'],
      removed: [],
      changed: ['counter'],
      unchanged: ['held'],
    });
    const now = agent.status().services;
    assert.equal(now.a!.since, before.a!.since); // untouched
    assert.equal(now.a!.workers[0]!.iterations, before.a!.workers[0]!.iterations);
    assert.ok(now.b!.since > before.b!.since); // restarted with its new section
    assert.equal(now.c!.state, 'running');
    assert.equal((agent.config.services.b!.settings as { seed: number }).seed, 3);
    // The for: 1m hold began 30 s before the apply: it fires 30 s after it, on time.
    await clock.advance(29_999);
    assert.ok(!tags('out/').includes('out/held'));
    await clock.advance(1);
    assert.ok(tags('out/').includes('out/held'));
    agent.emit('x/fresh');
    assert.ok(tags('out/').includes('out/fresh'));
    assert.ok(tags('system/config/').includes('system/config/applied'));
  });

  it('between two events: each event is handled once, by the old rules or the new', async () => {
    const { agent, dir, events } = agentFor(BASE);
    after(() => agent.stop());
    await agent.start();
    const changed = next(dir, BASE.replace('out/old', 'out/new'));
    const original = next(dir, BASE);
    const N = 10_000;
    for (let i = 0; i < N; i++) {
      agent.emit(`load/${i % 7}`);
      if (i % 1000 === 500) await agent.apply(i % 2000 === 500 ? changed : original);
    }
    const old = events.filter((e) => e.tag === 'out/old').length;
    const fresh = events.filter((e) => e.tag === 'out/new').length;
    assert.equal(old + fresh, N);
    assert.ok(old > 0 && fresh > 0);
  });

  it('a section a running agent cannot take on is refused before anything changes', async () => {
    const { agent, dir } = agentFor(BASE);
    after(() => agent.stop());
    await agent.start();
    const withUnit = next(
      dir,
      BASE.replace('version: 1', 'version: 1\nunit: { id: other }').replace('seed: 2', 'seed: 9'),
    );
    await assert.rejects(agent.apply(withUnit), { code: 'PITCREW_CONFIG_RESTART', message: /unit changed/ });
    assert.equal((agent.config.services.b!.settings as { seed: number }).seed, 2);
    assert.deepEqual(diffConfigs(agent.config, agent.config, LIVE_SECTIONS).sections, []);
  });
});
