import type { IConnackPacket, MqttClient } from 'mqtt';
import { type BrokerOptions, brokerOptions } from '../cloud/push.js';
import type { FleetView } from './view.js';

/** How long a broker keeps an interrupted rollout's session (its queued acknowledgements): a week. */
export const SESSION_EXPIRY_S = 7 * 24 * 3600;

/** A fleet command's client, and whether its broker takes shared subscriptions. */
export interface FleetLink {
  client: MqttClient;
  /** An MQTT 5 broker says so when it connects; one that does not say takes them. */
  shared: boolean;
}

/**
 * A fleet command's link to the broker (MQTT 5): it reconnects on its own. A rollout's client has a
 * fixed id and a session the broker keeps for a week, so acknowledgements sent while it was away
 * are delivered when it returns; `closeRollout` ends that session once the rollout has ended.
 */
export async function fleetClient(broker: BrokerOptions, session?: string): Promise<FleetLink> {
  // Loaded here, not with the command: every start of the agent would evaluate it.
  const { default: mqtt } = await import('mqtt');
  const client = mqtt.connect({
    ...brokerOptions(broker),
    protocolVersion: 5,
    reconnectPeriod: 2000,
    ...(session
      ? { clientId: session, clean: false, properties: { sessionExpiryInterval: SESSION_EXPIRY_S } }
      : {}),
  });
  return new Promise((resolve, reject) => {
    client.once('connect', (connack: IConnackPacket) => {
      client.off('error', fail);
      resolve({ client, shared: connack.properties?.sharedSubscriptionAvailable !== false });
    });
    const fail = (e: Error) => {
      client.end(true);
      reject(e);
    };
    client.once('error', fail);
  });
}

/** Disconnects a rollout's client; an ended rollout's session is ended with it, leaving nothing on the broker. */
export function closeRollout(client: MqttClient, ended: boolean): Promise<void> {
  return client.endAsync(false, ended ? { properties: { sessionExpiryInterval: 0 } } : {});
}

/**
 * Subscribes the view's topics; resolves once the retained messages have come (the broker went
 * quiet). With `group`, the live messages come through the shared subscription
 * `$share/<group>/<filter>`, which a clustered broker routes as one consumer group and which
 * outlives the command in its session; the retained ones, which a broker does not send on a shared
 * subscription, through plain subscriptions dropped once they have come. A message both bring
 * while they overlap is taken twice, which the view and the rollout take as once.
 */
export async function collect(
  client: MqttClient,
  view: FleetView,
  onMessage: (topic: string, payload: Buffer, retained: boolean) => void,
  { quietMs = 300, group }: { quietMs?: number; group?: string } = {},
): Promise<void> {
  let last = 0;
  client.on('message', (topic, payload, packet) => {
    last = Date.now();
    onMessage(topic, payload, packet.retain);
  });
  const plain = view.filters();
  if (group)
    await client.subscribeAsync(
      plain.map((f) => `$share/${group}/${f}`),
      { qos: 1 },
    );
  await client.subscribeAsync(plain, { qos: 1 });
  // Retained messages follow the subscription's acknowledgement; MQTT marks no end to them.
  last = Math.max(last, Date.now());
  while (Date.now() - last < quietMs) await new Promise((r) => setTimeout(r, quietMs / 3));
  if (group) await client.unsubscribeAsync(plain);
}
