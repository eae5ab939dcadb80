import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { brokerAddress } from '../../agent/cloud/broker-url.js';

describe('broker URLs', () => {
  it('become mqtt.js options without the deprecated url.parse', () => {
    assert.deepEqual(brokerAddress('mqtts://broker.example:8883'), {
      protocol: 'mqtts',
      hostname: 'broker.example',
      port: 8883,
    });
    assert.deepEqual(brokerAddress('mqtt://dev%40fleet:p%3Ass@[::1]'), {
      protocol: 'mqtt',
      hostname: '::1',
      username: 'dev@fleet',
      password: 'p:ss',
    });
    assert.deepEqual(brokerAddress('wss://edge.example/mqtt?x=1'), {
      protocol: 'wss',
      hostname: 'edge.example',
      path: '/mqtt?x=1',
    });
    assert.throws(() => brokerAddress('broker.example:1883'));
  });
});
