import mqtt, { type MqttClient } from 'mqtt';
import { type BrokerOptions, brokerOptions } from '../cloud/push.js';
import type { FleetView } from './view.js';

/**
 * A fleet command's link to the broker: it reconnects on its own. A rollout's client has a fixed
 * id and a kept session, so acknowledgements sent while it was away are delivered when it returns.
 */
export function fleetClient(broker: BrokerOptions, session?: string): Promise<MqttClient> {
  return mqtt.connectAsync({
    ...brokerOptions(broker),
    reconnectPeriod: 2000,
    ...(session ? { clientId: session, clean: false } : {}),
  });
}

/** Subscribes the view's topics; resolves once the retained messages have come (the broker went quiet). */
export async function collect(
  client: MqttClient,
  view: FleetView,
  onMessage: (topic: string, payload: Buffer, retained: boolean) => void,
  quietMs = 300,
): Promise<void> {
  let last = 0;
  client.on('message', (topic, payload, packet) => {
    last = Date.now();
    onMessage(topic, payload, packet.retain);
  });
  await client.subscribeAsync(view.filters(), { qos: 1 });
  // Retained messages follow the subscription's acknowledgement; MQTT marks no end to them.
  last = Math.max(last, Date.now());
  while (Date.now() - last < quietMs) await new Promise((r) => setTimeout(r, quietMs / 3));
}
