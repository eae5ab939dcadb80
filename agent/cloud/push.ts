import mqtt from 'mqtt';

/** Publishes one message at QoS 1 and waits for the broker's PUBACK (`pitcrew bundle push`). */
export async function pushMessage(url: string, topic: string, payload: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000 });
  try {
    await client.publishAsync(topic, payload, { qos: 1 });
  } finally {
    await client.endAsync();
  }
}
