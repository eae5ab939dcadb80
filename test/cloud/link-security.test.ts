/**
 * The cloud link's connection, against a real mosquitto: TLS with client certificates made here
 * (openssl), credentials the broker refuses (a clear error, and a backoff on the agent's clock
 * rather than a loop), and the `publish` action through the outbox.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { type Clock, FakeClock, realClock } from '../../agent/core/clock.js';
import { agentWith } from '../helpers/agent.js';
import { certificates } from '../helpers/certs.js';
import { Broker } from '../helpers/mosquitto.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

function agentOn(yaml: string, clock: Clock = realClock) {
  const h = agentWith(`version: 1\nunit: { id: u1, data_dir: var }\n${yaml}`, clock);
  after(() => h.agent.stop());
  return h;
}

describe('cloud link: TLS, credentials, publish', () => {
  it('connects over mqtts with a client certificate and delivers records', async () => {
    const certs = certificates(tmpDir());
    const broker = await Broker.start({ tls: { ca: certs.ca, ...certs.server } });
    after(() => broker.close());
    const sub = await broker.client({ ca: readFileSync(certs.ca), ...readPair(certs.client) });
    after(() => sub.endAsync());
    await sub.subscribeAsync('pitcrew/u1/data', { qos: 1 });
    let records = 0;
    sub.on('message', () => records++);
    const { agent } = agentOn(
      `cloud: { mqtt: { url: "${broker.url}", ca: ${certs.ca}, cert: ${certs.client.cert}, key: ${certs.client.key} }, outbox: { batch: { max_wait: 10ms } } }\n`,
    );
    await agent.start();
    await waitFor(
      () => agent.status().cloud.state === 'connected',
      'a TLS connection',
      () => JSON.stringify(agent.status().cloud),
    );
    const cloud = await agent.returner('cloud');
    await cloud({ type: 'rpm', value: 800, ts: Date.now() });
    await waitFor(() => records === 1, 'the record over TLS');
  });

  it('without the client certificate, the broker refuses, and the error says so', async () => {
    const certs = certificates(tmpDir());
    const broker = await Broker.start({ tls: { ca: certs.ca, ...certs.server } });
    after(() => broker.close());
    const { agent } = agentOn(`cloud: { mqtt: { url: "${broker.url}", ca: ${certs.ca} } }\n`);
    await agent.start();
    await waitFor(() => agent.status().cloud.last_error !== undefined, 'a TLS error');
    assert.notEqual(agent.status().cloud.state, 'connected');
  });

  it('refused credentials: a clear error, and retries only after a doubling delay on the clock', async () => {
    const broker = await Broker.start({ users: { u1: 'right' } });
    after(() => broker.close());
    const clock = new FakeClock(0);
    const { agent } = agentOn(
      `cloud: { mqtt: { url: "${broker.url}", username: u1, password: wrong, reconnect: { min: 1s, max: 1m } } }\n`,
      clock,
    );
    await agent.start();
    const cloud = () => agent.status().cloud;
    await waitFor(
      () => cloud().state === 'waiting',
      'the refusal',
      () => JSON.stringify(cloud()),
    );
    assert.match(cloud().last_error!, /refused the connection: (not authorized|bad user name or password)/);
    assert.equal(cloud().attempts, 1);
    // Real time passes; the agent's clock does not: no new attempt, however long the broker takes.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(cloud().attempts, 1);
    await clock.advance(999);
    assert.equal(cloud().attempts, 1);
    await clock.advance(1);
    assert.equal(cloud().attempts, 2);
    await waitFor(() => cloud().state === 'waiting', 'the second refusal');
    await clock.advance(1999);
    assert.equal(cloud().attempts, 2, 'the delay doubled');
    await clock.advance(1);
    assert.equal(cloud().attempts, 3);
    assert.equal(cloud().connects, 0);
  });

  it('publish sends to <prefix>/<topic> in order with the records, after they are on disk', async () => {
    const broker = await Broker.start();
    after(() => broker.close());
    const sub = await broker.client();
    after(() => sub.endAsync());
    await sub.subscribeAsync('pitcrew/u1/#', { qos: 1 });
    const seen: string[] = [];
    sub.on('message', (topic, payload) => {
      if (!topic.endsWith('/status') && !topic.endsWith('/online')) seen.push(`${topic} ${payload}`);
    });
    const { agent } = agentOn(
      `cloud: { mqtt: { url: "${broker.url}" }, outbox: { compression: none, batch: { max_wait: 10ms } } }
reactor:
  rules:
    - name: fwd
      on: vehicle/+/alert
      do: [{ publish: { topic: events, payload: { tag: "{{ event.tag }}", level: "{{ event.data.level }}" }, retain: true } }]
`,
    );
    await agent.start();
    await waitFor(() => agent.status().cloud.state === 'connected', 'connect');
    agent.emit('vehicle/engine/alert', { level: 3 });
    await waitFor(() => seen.length === 1, 'the published event');
    assert.deepEqual(seen, ['pitcrew/u1/events {"tag":"vehicle/engine/alert","level":3}']);
    // Retained: a client that subscribes later still gets it.
    const late = await broker.client();
    after(() => late.endAsync());
    const retained = new Promise<string>((r) => late.on('message', (_t, p) => r(p.toString())));
    await late.subscribeAsync('pitcrew/u1/events');
    assert.equal(await retained, '{"tag":"vehicle/engine/alert","level":3}');
  });
});

function readPair(p: { cert: string; key: string }) {
  return { cert: readFileSync(p.cert), key: readFileSync(p.key) };
}
