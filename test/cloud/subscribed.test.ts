/**
 * The cloud link is connected only once its subscriptions are in place, so what the cloud sends
 * the unit on hearing that is not missed: through a relay on 127.0.0.1 that holds the broker's
 * SUBACK, the link stays unconnected until the SUBACK passes.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { realClock } from '../../agent/core/clock.js';
import { agentWith } from '../helpers/agent.js';
import { Broker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

const SUBSCRIBE = 8;
const SUBACK = 9;

/** Splits an MQTT byte stream into whole packets (fixed header, remaining length, body). */
function packets(onPacket: (p: Buffer) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      let length = 0;
      let i = 1;
      for (let scale = 1; i < buf.length; i++, scale *= 128) {
        length += (buf[i]! & 127) * scale;
        if (!(buf[i]! & 128)) break;
      }
      if (i >= buf.length || buf.length < i + 1 + length) return;
      onPacket(buf.subarray(0, i + 1 + length));
      buf = buf.subarray(i + 1 + length);
    }
  };
}

/** A relay to the broker that holds what the broker sends from its first SUBACK on, until `release()`. */
async function subackHolder(brokerPort: number) {
  const held: Buffer[] = [];
  let holding = true;
  let subscribed = false;
  let toAgent: net.Socket | undefined;
  const server = net.createServer((agentSide) => {
    const brokerSide = net.connect(brokerPort, '127.0.0.1');
    toAgent = agentSide;
    agentSide.on(
      'data',
      packets((p) => {
        if (p[0]! >> 4 === SUBSCRIBE) subscribed = true;
        brokerSide.write(p);
      }),
    );
    brokerSide.on(
      'data',
      packets((p) => {
        if (holding && (held.length > 0 || p[0]! >> 4 === SUBACK)) held.push(p);
        else agentSide.write(p);
      }),
    );
    agentSide.on('close', () => brokerSide.destroy());
    brokerSide.on('close', () => agentSide.destroy());
    agentSide.on('error', () => {});
    brokerSide.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    /** The agent has subscribed and the broker's answer is held. */
    holding: () => subscribed && held.length > 0,
    release: () => {
      holding = false;
      for (const p of held.splice(0)) toAgent?.write(p);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('cloud link subscriptions', () => {
  it('is connected only once the broker has acknowledged its subscriptions', async () => {
    const broker = await Broker.start();
    after(() => broker.close());
    const relay = await subackHolder(broker.port);
    after(() => relay.close());
    const { agent, events } = agentWith(
      `version: 1\nunit: { id: u1, data_dir: var }\ncloud: { mqtt: { url: "mqtt://127.0.0.1:${relay.port}" } }\n`,
      realClock,
    );
    await agent.start();
    after(() => agent.stop());
    const connected = () => events.some((e) => e.tag === 'system/cloud/connected');
    // The agent subscribed after the broker accepted its connection; the SUBACK has not reached it.
    await waitFor(relay.holding, 'the subscription and its held SUBACK');
    assert.equal(connected(), false);
    assert.notEqual(agent.status().cloud.state, 'connected');
    relay.release();
    await waitFor(connected, 'the link connected');
    assert.equal(agent.status().cloud.state, 'connected');
  });
});
