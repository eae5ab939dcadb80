import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { agentFor, until } from '../helpers/agent.js';

/** A config whose one worker, `w` of the module `m` (rough.mjs), runs every second the messages that follow. */
const ROUGH_WORKER = `
version: 1
services:
  m:
    driver: module
    settings: { module: $FIXTURES/modules/rough.mjs }
    workers:
      - name: w
        interval: 1s
        messages:
`;

describe('pipeline steps under stress', () => {
  it('awaits async filters and converters; a rejected async converter is a message error, not a crash', async () => {
    const { agent, clock, events } =
      agentFor(`${ROUGH_WORKER}          - { handler: count, filter: $FIXTURES/modules/async-hooks.mjs#never, returner: emit }
          - { handler: count, converter: $FIXTURES/modules/async-hooks.mjs#rejects, returner: emit }
          - { handler: count, converter: $FIXTURES/modules/async-hooks.mjs#later, returner: emit }
`);
    after(() => agent.stop());
    await agent.start();
    const counts = () => events.filter((e) => e.tag === 'vehicle/m/count').map((e) => e.data.value);
    // The steps await real turns of the event loop: each iteration is waited for before time moves on.
    await clock.advance(0);
    await until(() => counts().length === 1);
    await clock.advance(1000);
    await until(() => counts().length === 2);
    // Only the third message passes: its async converter adds 100.
    assert.deepEqual(counts(), [103, 106]);
    const [w] = agent.status().services.m!.workers;
    assert.deepEqual(w!.errors, [{}, { 'converter gave up': 2 }, {}]);
  });

  it('fails a message whose handler never settles after its timeout; the worker goes on', async () => {
    const { agent, clock } = agentFor(`${ROUGH_WORKER}          - { handler: never, timeout: 500ms }
          - { handler: count, returner: signals }
`);
    after(() => agent.stop());
    await agent.start();
    await clock.advance(3000);
    const [w] = agent.status().services.m!.workers;
    const [timeouts] = Object.entries(w!.errors[0]!);
    assert.match(timeouts![0], /message 'never' did not finish within 500 ms/);
    assert.ok(timeouts![1] >= 2, `timeouts: ${timeouts![1]}`);
    // After each timed-out message the next one ran: the count went on.
    assert.ok((agent.signals.get('m', 'count')?.value as number) >= timeouts![1]);
  });

  it('rejects a result without a type, naming the handler; nothing reaches the returners', async () => {
    const { agent, clock, events } = agentFor(`
version: 1
services:
  m:
    driver: module
    settings: { module: $FIXTURES/modules/rough.mjs }
    workers:
      - { name: w, interval: 1s, messages: [{ handler: untyped, returner: [emit, cloud] }] }
`);
    after(() => agent.stop());
    await agent.start();
    await clock.advance(1000);
    const [w] = agent.status().services.m!.workers;
    assert.deepEqual(Object.keys(w!.errors[0]!), [
      "handler 'untyped' returned a result with type undefined: a result needs a 'type' made of letters, digits and _",
    ]);
    assert.equal(events.filter((e) => e.tag.startsWith('vehicle/m/')).length, 0);
    assert.equal(agent.status().outbox.queued, 0);
  });

  it('a rule fired by a trigger reads the signal store as of the reading that fired it', async () => {
    const { agent, clock, events } = agentFor(`
version: 1
services:
  obd:
    driver: sim-vehicle
    settings: { seed: 7, cycle: urban }
    hooks: [{ name: engine, kind: trigger, use: engine_state }]
    workers:
      - { name: w, interval: 1s, messages: [{ handler: query, args: { pid: RPM }, trigger: engine, returner: signals }] }
reactor:
  rules:
    - name: seen
      on: vehicle/engine/running
      do: [{ emit: { tag: custom/seen, data: { rpm: "{{ signals.obd.rpm }}", fired_by: "{{ event.data.rpm }}" } } }]
`);
    after(() => agent.stop());
    await agent.start();
    await clock.advance(120_000);
    const seen = events.filter((e) => e.tag === 'custom/seen');
    assert.ok(seen.length >= 1, 'the engine started');
    for (const e of seen) assert.equal(e.data.rpm, e.data.fired_by);
  });
});
