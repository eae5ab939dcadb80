/**
 * The cloud link against a real mosquitto on 127.0.0.1: batches in order and gzip-decodable, the
 * broker going away mid-stream, the outbox overflowing offline, full status on (re)connect.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { MqttClient } from 'mqtt';
import { realClock } from '../../agent/core/clock.js';
import type { Result } from '../../agent/core/types.js';
import { agentWith } from '../helpers/agent.js';
import { Broker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

interface Batch {
  unit: string;
  batch: string;
  records: (Result & { id: string; '@t': string; '@ts': number })[];
}

/** A started agent on the real clock whose cloud section is `cloud` (YAML flow map). */
async function cloudAgent(cloud: string) {
  const { agent, events } = agentWith(
    `version: 1\nunit: { id: u1, data_dir: var }\ncloud: ${cloud}\n`,
    realClock,
  );
  await agent.start();
  after(() => agent.stop());
  const cloudReturner = await agent.returner('cloud');
  const push = (value: number) => cloudReturner({ type: 'n', value, ts: Date.now() }) as Promise<void>;
  return { agent, events, push };
}

/** Collects what arrives on a topic (batches gunzipped when they are gzip). */
function collect(client: MqttClient) {
  const batches: Batch[] = [];
  const other = new Map<string, string[]>();
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/data')) {
      const gz = payload[0] === 0x1f && payload[1] === 0x8b;
      batches.push(JSON.parse((gz ? gunzipSync(payload) : payload).toString()) as Batch);
    } else other.set(topic, [...(other.get(topic) ?? []), payload.toString()]);
  });
  const values = () => batches.flatMap((b) => b.records.map((r) => r.value as number));
  return { batches, other, values };
}

const link = (url: string, more = '') =>
  `{ mqtt: { url: "${url}", keepalive: 5s, reconnect: { min: 100ms, max: 500ms } }, outbox: { batch: { max_records: 50, max_wait: 50ms }${more} } }`;

describe('cloud link over a real broker', () => {
  it('sends records in order, in gzip batches, and deletes them once acknowledged', async () => {
    const broker = await Broker.start();
    after(() => broker.close());
    const sub = await broker.client();
    after(() => sub.endAsync());
    await sub.subscribeAsync('pitcrew/u1/#', { qos: 1 });
    const got = collect(sub);
    const { agent, events } = await cloudAgent(link(broker.url));
    await waitFor(() => agent.status().cloud.state === 'connected', 'connect');
    const cloud = await agent.returner('cloud');
    const pushes: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++)
      pushes.push(Promise.resolve(cloud({ type: 'n', value: i, ts: Date.now() })));
    await Promise.all(pushes);
    await waitFor(() => got.values().length >= 1000, '1000 records');
    assert.deepEqual(
      got.values(),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.ok(got.batches.every((b) => b.records.length <= 50 && b.unit === 'u1'));
    assert.ok(got.batches.length <= 40, `${got.batches.length} batches for 1000 records: not batched`);
    const ids = got.batches.flatMap((b) => b.records.map((r) => r.id));
    assert.equal(new Set(ids).size, 1000);
    assert.equal(got.batches[0]!.records[0]!['@t'], 'reactor.n');
    await waitFor(() => agent.status().outbox.queued === 0, 'the outbox to empty');
    assert.deepEqual(got.other.get('pitcrew/u1/online'), ['true']);
    const status = JSON.parse(got.other.get('pitcrew/u1/status')![0]!) as Record<string, unknown>;
    assert.equal(status.messageType, 'unitStatus');
    assert.equal(status.isDeltaInfo, false);
    assert.equal((status.config as { status: string }[])[0]!.status, 'installed');
    assert.ok(events.some((e) => e.tag === 'system/cloud/connected'));
    // A clean stop ends the link and says so itself, without waiting for the will.
    await agent.stop();
    await waitFor(() => got.other.get('pitcrew/u1/online')?.at(-1) === 'false', 'online "false" on stop');
  });

  it('keeps sending across a broker restart: every accepted record arrives, full status again', async () => {
    const broker = await Broker.start();
    after(() => broker.close());
    // A persistent session: what the agent sends while this client is away waits for it in the broker.
    const sub = await broker.client({ clientId: 'tester', clean: false });
    after(() => sub.endAsync());
    await sub.subscribeAsync('pitcrew/u1/#', { qos: 1 });
    const got = collect(sub);
    const { agent, events, push } = await cloudAgent(link(broker.url));
    await waitFor(() => agent.status().cloud.state === 'connected', 'connect');
    for (let i = 0; i < 300; i++) await push(i);
    await broker.stop();
    await waitFor(() => agent.status().cloud.state !== 'connected', 'the link to notice');
    // Accepted while the broker is gone: on disk, waiting.
    await Promise.all(Array.from({ length: 300 }, (_, i) => push(300 + i)));
    assert.ok(agent.status().outbox.queued > 0);
    await broker.resume();
    await waitFor(
      () => new Set(got.values()).size >= 600,
      'all 600 records',
      () =>
        `${new Set(got.values()).size} arrived; ${JSON.stringify(agent.status().cloud)} ${JSON.stringify(agent.status().outbox)}`,
      20_000,
    );
    assert.deepEqual(
      [...new Set(got.values())].sort((a, b) => a - b),
      Array.from({ length: 600 }, (_, i) => i),
    );
    // Duplicates only ever with the same id.
    const byId = new Map<string, number>();
    for (const b of got.batches) for (const r of b.records) assert.equal(byId.get(r.id) ?? r.value, r.value);
    const tags = events.map((e) => e.tag);
    assert.ok(tags.includes('system/cloud/disconnected'));
    assert.equal(tags.filter((t) => t === 'system/cloud/connected').length, 2);
    await waitFor(
      () =>
        (got.other.get('pitcrew/u1/status') ?? []).filter((s) => s.includes('"isDeltaInfo":false')).length >=
        2,
      'a full status after the reconnect',
    );
  });

  it('overflowing while offline drops exactly the oldest records, counts and reports them', async () => {
    const broker = await Broker.start();
    after(() => broker.close());
    const sub = await broker.client({ clientId: 'tester', clean: false });
    after(() => sub.endAsync());
    await sub.subscribeAsync('pitcrew/u1/data', { qos: 1 });
    const got = collect(sub);
    await broker.stop(); // its port, with nothing listening yet
    const { agent, events, push } = await cloudAgent(link(broker.url, ', max_records: 100'));
    await Promise.all(Array.from({ length: 250 }, (_, i) => push(i)));
    const s = agent.status().outbox;
    assert.equal(s.queued, 100);
    assert.equal(s.dropped, 150);
    const dropped = events.filter((e) => e.tag === 'system/outbox/dropped');
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]!.data.total, 150);
    await broker.resume();
    await waitFor(() => got.values().length >= 100, 'the 100 kept records');
    assert.deepEqual(
      got.values(),
      Array.from({ length: 100 }, (_, i) => 150 + i),
    );
  });
});
