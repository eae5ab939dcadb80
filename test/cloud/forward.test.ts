/**
 * Events to the cloud (DESIGN §6, topic `events`): a rule's `forward` sends `{tag, data, ts}` through
 * the outbox, kept across a link that is down. The installed command against a real mosquitto.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Event } from '../../agent/core/bus.js';
import { runBin, startCli } from '../helpers/cli.js';
import { Broker } from '../helpers/mosquitto.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const tagged = (tag: string) => (l: string) => l.startsWith('{') && (JSON.parse(l) as Event).tag === tag;

describe('forward: events to the cloud (real broker, installed command)', () => {
  it('sends the event, or the tag and data written, on <prefix>/events; what waits for the link is kept', async () => {
    const broker = await Broker.start();
    after(() => broker.close());
    const dir = tmpDir();
    const file = path.join(dir, 'pitcrew.yaml');
    writeFileSync(
      file,
      `version: 1
unit: { id: f-1, data_dir: var }
control: { socket: ${dir}/ctl.sock }
cloud: { mqtt: { url: "${broker.url}", reconnect: { min: 100ms, max: 500ms } } }
reactor:
  rules:
    - { name: all, on: trip/+, do: [{ forward: {} }] }
    - name: shaped
      on: trip/end
      do: [{ forward: { tag: "fleet/{{ unit.id }}/trip", data: { km: "{{ event.data.km }}" } } }]
`,
    );
    // A persistent session: what the agent sends before this client is back waits for it in the broker.
    const sub = await broker.client({ clientId: 'forward-tester', clean: false });
    after(() => sub.endAsync());
    const got: { topic: string; message: { tag: string; data: unknown; ts: number } }[] = [];
    sub.on('message', (topic, m) => got.push({ topic, message: JSON.parse(m.toString()) }));
    await sub.subscribeAsync('pitcrew/f-1/events', { qos: 1 });

    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor(tagged('system/cloud/connected'));
    const emitted = await runBin(['emit', 'trip/start', '{"odo":100}', '-c', file]);
    assert.equal(emitted.code, 0, emitted.stderr);
    await waitFor(() => got.length === 1, 'the forwarded event');
    const start = JSON.parse(await agent.waitFor(tagged('trip/start'))) as Event;
    assert.deepEqual(got[0], {
      topic: 'pitcrew/f-1/events',
      message: { tag: 'trip/start', data: { odo: 100 }, ts: start.ts },
    });

    // The broker goes away: forwarded events wait in the outbox and arrive, in order, once it is back.
    await broker.stop();
    await agent.waitFor(tagged('system/cloud/disconnected'));
    assert.equal((await runBin(['emit', 'trip/end', '{"km":12.5}', '-c', file])).code, 0);
    await broker.resume();
    await agent.waitFor(tagged('system/cloud/connected'));
    await waitFor(() => got.length === 3, 'the events forwarded while the broker was down');
    // Two rules on one event: each forwards once (the order between rules is not defined).
    assert.deepEqual(
      got
        .slice(1)
        .map((g) => [g.message.tag, g.message.data])
        .sort(),
      [
        ['fleet/f-1/trip', { km: 12.5 }],
        ['trip/end', { km: 12.5 }],
      ],
    );
  });
});
