/**
 * The installed command (bin/pitcrew.js) against a real mosquitto: killed with SIGKILL
 * mid-stream and started again, it loses no accepted record; the broker publishes its last will.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { runCli, startCli } from '../helpers/cli.js';
import { Broker } from '../helpers/mosquitto.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

describe('pitcrew run with the cloud link (real process, real broker)', () => {
  it('a kill -9 mid-stream loses nothing accepted; the last will says the unit went offline', async () => {
    const broker = await Broker.start();
    after(() => broker.close());
    const sub = await broker.client();
    after(() => sub.endAsync());
    await sub.subscribeAsync('pitcrew/u9/#', { qos: 1 });
    const received = new Set<string>();
    const online: string[] = [];
    sub.on('message', (topic, payload) => {
      if (topic.endsWith('/online')) online.push(payload.toString());
      if (!topic.endsWith('/data')) return;
      const batch = JSON.parse(gunzipSync(payload).toString()) as { records: { id: string }[] };
      for (const r of batch.records) received.add(r.id);
    });
    const dir = tmpDir();
    const file = path.join(dir, 'pitcrew.yaml');
    // Batches wait up to 1 s: at any moment hundreds of records are accepted and not yet sent.
    writeFileSync(
      file,
      `version: 1
unit: { id: u9, data_dir: var }
control: { socket: ${dir}/ctl.sock }
services:
  obd:
    driver: sim-vehicle
    settings: { seed: 7 }
    workers:
      - name: fast
        interval: 20ms
        messages:
          - { handler: query, args: { pid: RPM }, returner: cloud }
          - { handler: query, args: { pid: SPEED }, returner: cloud }
          - { handler: query, args: { pid: COOLANT_TEMP }, returner: cloud }
cloud:
  mqtt: { url: "${broker.url}", keepalive: 1s, reconnect: { min: 100ms, max: 1s } }
  outbox: { batch: { max_records: 1000, max_wait: 1s } }
`,
    );
    const run = () => startCli(['run', '-c', file], { runner: 'bin' });
    const first = run();
    after(() => first.child.kill('SIGKILL'));
    await waitFor(
      () => received.size >= 200,
      'records from the first run',
      () => first.stderr(),
    );
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 500)); // somewhere inside a batch's wait
    first.child.kill('SIGKILL');
    await first.exited;
    const db = new Database(path.join(dir, 'var/outbox.db'), { readonly: true });
    const pending = (db.prepare('SELECT id FROM outbox').all() as { id: string }[]).map((r) => r.id);
    db.close();
    assert.ok(pending.length > 0, 'records were waiting when the process died');
    await waitFor(() => online.at(-1) === 'false', 'the last will');
    const second = run();
    after(() => second.child.kill('SIGKILL'));
    await waitFor(
      () => pending.every((id) => received.has(id)),
      'every record accepted before the kill',
      () =>
        `${pending.filter((id) => !received.has(id)).length} of ${pending.length} missing; ${second.stderr()}`,
    );
    await waitFor(() => online.at(-1) === 'true', 'online again');
    // `pitcrew status` shows the link and the queue.
    const st = runCli(['status', '-c', file]);
    assert.equal(st.code, 0, st.stderr);
    const status = JSON.parse(st.stdout) as {
      cloud: { state: string; broker: string; connects: number };
      outbox: { queued: number; bytes: number; dropped: number; oldest_age?: number };
    };
    assert.equal(status.cloud.state, 'connected');
    assert.equal(status.cloud.broker, broker.url);
    assert.equal(status.outbox.dropped, 0);
    assert.ok(status.outbox.queued >= 0 && status.outbox.bytes >= 0);
    if (status.outbox.queued > 0) assert.ok(status.outbox.oldest_age! >= 0);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  });
});
