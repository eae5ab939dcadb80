import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import { errors, errorText } from '../core/errors.js';
import { brokerAddress } from './broker-url.js';

/** How a fleet tool reaches the broker: the link's own TLS files and credentials (`cloud.mqtt`). */
export interface BrokerOptions {
  url: string;
  ca?: string;
  cert?: string;
  key?: string;
  username?: string;
  password?: string;
}

/** The client options for `broker`, its TLS files read; a missing file is named. */
export function brokerOptions(broker: BrokerOptions): IClientOptions {
  const tls: Pick<IClientOptions, 'ca' | 'cert' | 'key'> = {};
  for (const k of ['ca', 'cert', 'key'] as const) {
    const file = broker[k];
    if (!file) continue;
    try {
      tls[k] = readFileSync(file);
    } catch (e) {
      throw errors.CLI_ARG(`cannot read --${k} ${file}: ${errorText(e)}`);
    }
  }
  return {
    ...brokerAddress(broker.url, broker),
    ...tls,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  };
}

/** Publishes one message at QoS 1 and waits for the broker's PUBACK (`pitcrew bundle push`). */
export async function pushMessage(broker: BrokerOptions, topic: string, payload: string): Promise<void> {
  // Loaded here, not with the command: every start of the agent would evaluate it.
  const { default: mqtt } = await import('mqtt');
  const client = await mqtt.connectAsync(brokerOptions(broker));
  try {
    await client.publishAsync(topic, payload, { qos: 1 });
  } finally {
    await client.endAsync();
  }
}
