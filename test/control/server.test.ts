import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from '../../agent/control/client.js';
import { ControlServer } from '../../agent/control/server.js';
import { MAX_LINE } from '../../agent/core/lines.js';
import { agentFor } from '../helpers/agent.js';

/** Sends raw bytes and collects the answer lines until the server closes or `lines` arrive. */
function raw(socket: string, payload: string, lines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socket);
    let buf = '';
    const done = () => resolve(buf.split('\n').filter(Boolean));
    s.setEncoding('utf8');
    s.on('connect', () => s.write(payload));
    s.on('data', (c: string) => {
      buf += c;
      if (buf.split('\n').filter(Boolean).length >= lines) {
        s.end();
        done();
      }
    });
    s.on('end', done);
    s.on('error', reject);
  });
}

describe('control socket', async () => {
  const { agent, dir } = agentFor('version: 1\n');
  const socket = path.join(dir, 'ctl.sock');
  const server = new ControlServer(agent.context({ socket }));
  agent.use(server);
  await agent.start();
  after(() => agent.stop());

  it('answers bad requests with an error and keeps serving', async () => {
    const answers = await raw(
      socket,
      'not json\n{"cmd":"nope"}\n{"cmd":"emit","args":{}}\n{"id":7,"cmd":"status"}\n',
      4,
    );
    const parsed = answers.map((a) => JSON.parse(a) as { ok: boolean; error?: string; id?: number });
    assert.match(parsed[0]!.error!, /^bad request: /);
    assert.match(parsed[1]!.error!, /^bad request: /);
    assert.equal(parsed[2]!.error, "bad request: 'tag' is required");
    assert.deepEqual([parsed[3]!.ok, parsed[3]!.id], [true, 7]);
  });

  it('refuses a request line longer than the limit', async () => {
    const answers = await raw(socket, 'x'.repeat(MAX_LINE + 10), 1);
    assert.match(JSON.parse(answers[0]!).error, /request longer than/);
    assert.equal((await request(socket, 'status')).ok, true);
  });

  it('does not let a client that stays connected hold up the stop', async () => {
    const idle = net.createConnection(socket);
    await once(idle, 'connect');
    const closed = once(idle, 'close');
    await server.stop();
    await closed;
    assert.equal(idle.destroyed, true);
  });
});
