/**
 * `pitcrew fleet status` through the installed command, with what a broken (or hostile) unit left
 * retained on the broker: it is shown as far as it can be, and the rest of the fleet with it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runBin } from '../helpers/cli.js';
import { Broker } from '../helpers/mosquitto.js';

describe('fleet status with malformed unit messages', () => {
  it('lists every unit; odd values are shown as their JSON, items that are not objects are left out', async () => {
    const broker = await Broker.start();
    after(() => broker.close());
    const client = await broker.client();
    after(() => client.endAsync());
    const retained = { qos: 1, retain: true } as const;
    await client.publishAsync('pitcrew/good/online', 'true', retained);
    await client.publishAsync(
      'pitcrew/good/status',
      JSON.stringify({ isDeltaInfo: false, config: [{ version: 'abc', status: 'ok', bundle: 3 }] }),
      retained,
    );
    await client.publishAsync(
      'pitcrew/rogue/status',
      '{"components":[null,7,{"id":"x","status":{"toString":0}}],"config":[{"version":{"toString":0}}],"__proto__":[1]}',
      retained,
    );
    await client.publishAsync(
      'pitcrew/rogue/ack',
      '{"version":{"valueOf":0,"toString":0},"status":{"toString":0},"errors":5}',
      retained,
    );
    const r = await runBin(['fleet', 'status', '--url', broker.url, '--prefix', 'pitcrew/+', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l.unit, l.bundle, l.config]),
      [
        ['good', 3, 'abc'],
        ['rogue', null, '{"toString":0}'],
      ],
    );
    assert.deepEqual(lines[1]!.updates, { '{"toString":0}': 1 });
    assert.deepEqual(lines[1]!.last_ack, { version: '{"valueOf":0,"toString":0}', status: '{"toString":0}' });
  });
});
