/**
 * Rules declared inside a service (AutoPi's reactors): they run as `<service>.<rule>`, are checked
 * with positions under the service, and a change to them alone leaves the service running.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffConfigs } from '../../agent/config/diff.js';
import { loadConfigSync } from '../../agent/config/load.js';
import { LIVE_SECTIONS } from '../../agent/runtime/extensions.js';
import { agentFor } from '../helpers/agent.js';
import { runCli } from '../helpers/cli.js';
import { configFile } from '../helpers/tmp.js';

const CAR = (tag: string) => `version: 1
services:
  car:
    driver: sim-vehicle
    settings: { seed: 3 }
    reactors:
      - { name: greet, on: ping, do: [{ emit: { tag: ${tag} } }] }
`;

describe('service reactors', () => {
  it('run as <service>.<rule>, beside the config rules', async () => {
    const { agent, events } = agentFor(
      `${CAR('pong')}reactor:\n  rules:\n    - { name: top, on: ping, do: [{ emit: { tag: top } }] }\n`,
    );
    await agent.start();
    agent.bus.emit('ping', {});
    assert.deepEqual(
      events
        .filter((e) => e.tag === 'pong' || e.tag === 'top')
        .map((e) => e.tag)
        .sort(),
      ['pong', 'top'],
    );
    assert.deepEqual(
      agent.operator
        .rules()
        .map((r) => r.name)
        .sort(),
      ['car.greet', 'top'],
    );
    await agent.stop();
  });

  it('are checked under the service, with positions; a change to them alone does not restart it', () => {
    const { file } = configFile(() =>
      `${CAR('pong')}`.replace('emit: { tag: pong }', 'call: { service: nope, handler: x }'),
    );
    const r = runCli(['validate', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /pitcrew\.yaml:7:\d+ services\.car\.reactors\[0\]\.do\[0\]\.call\.service: .*'nope'/,
    );
    const load = (tag: string) => loadConfigSync(configFile(() => CAR(tag)).file, {}).config;
    const d = diffConfigs(load('pong'), load('pang'), LIVE_SECTIONS);
    assert.deepEqual(
      [d.services.changed, d.services.unchanged, d.rules.changed],
      [[], ['car'], ['car.greet']],
    );
  });
});
