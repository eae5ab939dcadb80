import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from '../../agent/control/client.js';
import type { Event } from '../../agent/core/bus.js';
import { FIXTURES } from '../helpers/agent.js';
import { type Runner, startCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

/** `pitcrew run --events` on a config of its own (data dir and socket in a fresh directory) plus `body`. */
function runAgent(body: string, runner: Runner = 'tsx') {
  const dir = tmpDir();
  const socket = path.join(dir, 'var/ctl.sock');
  const file = path.join(dir, 'p.yaml');
  writeFileSync(file, `version: 1\nunit: { data_dir: ${dir}/var }\ncontrol: { socket: ${socket} }\n${body}`);
  const agent = startCli(['run', '-c', file, '--events'], { runner });
  after(() => agent.child.kill('SIGKILL'));
  return { agent, socket };
}

// What users run is what is tested: every scenario through the sources (tsx) and the built command.
for (const runner of ['tsx', 'bin'] as Runner[]) {
  describe(`module code cannot take the agent down (${runner})`, async () => {
    const { agent, socket } = runAgent(
      `services:
  rough:
    driver: module
    settings: { module: ${FIXTURES}/modules/rough.mjs }
    restart: { delay: 100ms, jitter: 0 }
    workers:
      - name: w
        interval: 200ms
        messages: [{ handler: count, converter: ${FIXTURES}/modules/hooks.mjs#double, returner: emit }]
  threaded:
    driver: module
    settings: { module: ${FIXTURES}/modules/rough.mjs, isolation: thread, hang_timeout: 2s }
    restart: { delay: 100ms, jitter: 0 }
`,
      runner,
    );
    const events = () => agent.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);
    const waitTag = (tag: string, pred: (e: Event) => boolean = () => true) =>
      agent.waitFor((l) => l.includes(`"tag":"${tag}"`) && pred(JSON.parse(l) as Event));
    const call = (service: string, handler: string, args: Record<string, unknown> = {}) =>
      request(socket, 'call', { service, handler, args });

    await waitTag('system/agent/started');

    it('loads module services and module hooks; a start() that never returns blocks nothing', async () => {
      await waitTag('vehicle/rough/count', (e) => e.data.value === 4);
      const status = await request(socket, 'status');
      assert.ok(status.ok);
      const services = (status.result as { services: Record<string, { state: string }> }).services;
      assert.equal(services.rough!.state, 'running');
      assert.equal(services.threaded!.state, 'running');
      assert.ok(events().some((e) => e.tag === 'custom/rough/alive'));
    });

    it('an error thrown from a module timer fails that service only, which restarts', async () => {
      assert.equal((await call('rough', 'throwLater')).ok, true);
      await waitTag('system/service/rough/failed', (e) => e.data.reason === 'thrown from a timer');
      await waitTag('system/service/rough/started', (e) => e.data.restarts === 1);
      assert.equal((await request(socket, 'status')).ok, true);
    });

    it('a promise a module leaves rejected fails that service only', async () => {
      assert.equal((await call('rough', 'rejectLater')).ok, true);
      await waitTag('system/service/rough/failed', (e) => e.data.reason === 'left rejected');
      await waitTag('system/service/rough/started', (e) => e.data.restarts === 2);
    });

    it('a busy loop in a thread freezes only the thread; a hung thread is ended and restarted', async () => {
      const spin = call('threaded', 'spin', { ms: 300 });
      let statusFirst = false;
      await request(socket, 'status').then(() => {
        statusFirst = true;
      });
      assert.equal((await spin).ok, true);
      assert.ok(statusFirst);
      void call('threaded', 'hang');
      await waitTag('system/service/threaded/failed', (e) => e.data.code === 'PITCREW_THREAD_HUNG');
      await waitTag('system/service/threaded/started', (e) => e.data.restarts === 1);
      assert.equal((await call('threaded', 'count')).ok, true);
    });

    it('a stall of the event loop is reported', async () => {
      assert.equal((await call('rough', 'spin', { ms: 1500 })).ok, true);
      const stalled = await waitTag('system/agent/stalled');
      assert.ok(((JSON.parse(stalled) as Event).data.ms as number) >= 1000);
    });

    it('a flood of events is bounded, counted and reported; the agent answers and stops on time', async () => {
      const flood = call('rough', 'flood', { n: 1_000_000 });
      assert.equal((await flood).ok, true);
      assert.equal((await request(socket, 'status')).ok, true);
      await waitTag('system/agent/error', (e) => e.data.code === 'PITCREW_FLOOD');
      const status = (await request(socket, 'status')) as {
        ok: true;
        result: { services: Record<string, { events_dropped: number }> };
      };
      assert.ok(status.result.services.rough!.events_dropped > 900_000);
      const started = Date.now();
      agent.child.kill('SIGTERM');
      assert.equal(await agent.exited, 0);
      assert.ok(Date.now() - started < 5000);
      assert.ok(events().filter((e) => e.tag === 'custom/flood').length <= 11_000);
    });
  });
}

describe('an error no service owns', () => {
  it('is logged and emitted as system/agent/error; the agent keeps running', async () => {
    const { agent, socket } = runAgent(
      `reactor:
  rules:
    - { name: r, on: custom/go, do: [{ return: { returner: ${FIXTURES}/modules/stray.mjs#later, data: { type: x, value: 1 } } }] }
`,
    );
    await agent.waitFor((l) => l.includes('"tag":"system/agent/started"'));
    assert.equal((await request(socket, 'emit', { tag: 'custom/go' })).ok, true);
    const line = await agent.waitFor((l) => l.includes('"tag":"system/agent/error"'));
    assert.deepEqual((JSON.parse(line) as Event).data, {
      error: 'nobody owns this',
      code: 'PITCREW_STRAY_ERROR',
    });
    assert.equal((await request(socket, 'status')).ok, true);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
  });
});
