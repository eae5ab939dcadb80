import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { brokerAddress } from '../../agent/cloud/broker-url.js';

describe('broker URLs', () => {
  it('become mqtt.js options without the deprecated url.parse, and without the 7 MB write cache', () => {
    assert.deepEqual(brokerAddress('mqtts://broker.example:8883'), {
      protocol: 'mqtts',
      hostname: 'broker.example',
      port: 8883,
      writeCache: false,
    });
    assert.deepEqual(brokerAddress('mqtt://dev%40fleet:p%3Ass@[::1]'), {
      protocol: 'mqtt',
      hostname: '::1',
      username: 'dev@fleet',
      password: 'p:ss',
      writeCache: false,
    });
    assert.deepEqual(brokerAddress('wss://edge.example/mqtt?x=1'), {
      protocol: 'wss',
      hostname: 'edge.example',
      path: '/mqtt?x=1',
      writeCache: false,
    });
    assert.throws(() => brokerAddress('broker.example:1883'));
  });
});
