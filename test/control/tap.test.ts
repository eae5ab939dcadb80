/** `tap` on the control socket: matching events as JSON lines, bounded for a reader that stalls. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { tapEvents } from '../../agent/control/client.js';
import { ControlServer } from '../../agent/control/server.js';
import type { TapLine } from '../../agent/control/tap.js';
import { agentFor } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';

describe('control socket: tap', async () => {
  const { agent, dir } = agentFor('version: 1\n');
  const socket = path.join(dir, 'ctl.sock');
  agent.use(new ControlServer(agent.context({ socket })));
  await agent.start();
  after(() => agent.stop());

  it('streams the events that match, in order, until the client stops', async () => {
    const got: TapLine[] = [];
    const stop = new AbortController();
    const done = tapEvents(socket, 'trip/+', (l) => got.push(l), stop.signal);
    // The tap is in place once a probe event comes through.
    await waitFor(() => {
      agent.emit('trip/probe');
      return got.length > 0;
    }, 'the tap');
    for (let i = 0; i < 5; i++) agent.emit(i % 2 ? 'trip/odd' : 'other/even', { i });
    agent.emit('trip/end');
    await waitFor(() => got.some((l) => 'event' in l && l.event.tag === 'trip/end'), 'the last event');
    // Probes still on their way when the tap answered are left out.
    assert.deepEqual(
      got
        .map((l) => ('event' in l ? [l.event.tag, l.event.data] : l))
        .filter((l) => Array.isArray(l) && l[0] !== 'trip/probe'),
      [
        ['trip/odd', { i: 1 }],
        ['trip/odd', { i: 3 }],
        ['trip/end', {}],
      ],
    );
    stop.abort();
    await done.catch(() => {});
  });

  it('refuses a bad pattern with its reason', async () => {
    await assert.rejects(
      tapEvents(socket, 'a/#/b', () => {}, new AbortController().signal),
      {
        code: 'PITCREW_PATTERN_INVALID',
        message: /'#' may only be the last segment/,
      },
    );
  });

  it('drops and counts what a reader that stalls cannot take, and says so when it reads again', async () => {
    const client = net.createConnection(socket);
    await once(client, 'connect');
    after(() => client.destroy());
    client.setEncoding('utf8');
    let buf = '';
    client.on('data', (c: string) => {
      buf += c;
    });
    client.write(`${JSON.stringify({ id: 1, cmd: 'tap', args: { pattern: 'load/#' } })}\n`);
    await waitFor(() => buf.includes('"ok":true'), 'the tap answer');
    client.pause();
    // 4 MB of events against a reader that reads nothing: the agent keeps at most its bound.
    const payload = 'x'.repeat(4096);
    const n = 1000;
    for (let i = 0; i < n; i++) agent.emit('load/x', { i, payload });
    client.resume();
    await waitFor(
      () => buf.includes('"dropped"'),
      'the dropped count',
      () => buf.slice(-200),
    );
    agent.emit('load/last', { i: n });
    await waitFor(() => buf.includes('"load/last"'), 'the last event');
    const lines = buf
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => JSON.parse(l) as TapLine);
    const events = lines.filter((l): l is { event: never } => 'event' in l).length;
    const dropped = lines.reduce((sum, l) => sum + ('dropped' in l ? l.dropped : 0), 0);
    assert.ok(dropped > 0 && events < n);
    assert.equal(events + dropped, n + 1);
  });
});
