import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from '../../agent/control/client.js';
import { ControlServer } from '../../agent/control/server.js';
import { agentFor } from '../helpers/agent.js';
import { ROOT, runBin, runCli, startCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** One raw request line, one answer line. */
function ask(socket: string, line: string): Promise<{ ok: boolean; code?: string; error?: string }> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socket);
    let buf = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`${line}\n`));
    s.on('data', (c: string) => {
      buf += c;
      if (buf.includes('\n')) {
        s.end();
        resolve(JSON.parse(buf.slice(0, buf.indexOf('\n'))));
      }
    });
    s.on('error', reject);
  });
}

describe('control socket: no request can hurt the agent', async () => {
  const { agent, dir, clock } = agentFor(`
version: 1
services:
  m: { driver: module, settings: { module: $FIXTURES/modules/rough.mjs } }
  obd: { driver: sim-vehicle, settings: {} }
`);
  const socket = path.join(dir, 'ctl.sock');
  agent.use(new ControlServer(agent.context({ socket }), { idleMs: 200, maxConnections: 8 }));
  await agent.start();
  after(() => agent.stop());

  it('an answer that cannot be JSON becomes an error answer', async () => {
    const r = await request(socket, 'call', { service: 'm', handler: 'cyclic' });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'PITCREW_CONTROL_ANSWER');
    assert.equal((await request(socket, 'status')).ok, true);
  });

  it('deeply nested request JSON is refused before it is parsed', async () => {
    const deep = `${'['.repeat(6000)}${']'.repeat(6000)}`;
    const r = await ask(socket, `{"cmd":"emit","args":{"tag":"a/b","data":{"x":${deep}}}}`);
    assert.deepEqual([r.ok, r.code], [false, 'PITCREW_CONTROL_REQUEST']);
    assert.match(r.error!, /nested deeper than 64 levels/);
  });

  it('call reaches only a service’s own handlers', async () => {
    for (const [service, handler] of [
      ['obd', 'constructor'],
      ['obd', 'toString'],
      ['m', 'constructor'],
      ['m', '__proto__'],
    ]) {
      const r = await request(socket, 'call', { service, handler });
      assert.equal(r.ok, false, `${service} ${handler}`);
    }
    assert.equal((await request(socket, 'call', { service: 'm', handler: 'count' })).ok, true);
  });

  it('a call whose handler never returns fails with PITCREW_MESSAGE_TIMEOUT after its timeout', async () => {
    let r: Awaited<ReturnType<typeof request>> | undefined;
    void request(socket, 'call', { service: 'm', handler: 'never', timeout: 300 }).then((a) => {
      r = a;
    });
    // The agent's clock is a fake one, moved until the answer comes; it must take 300 ms of it.
    const t0 = clock.now();
    while (!r) {
      await clock.advance(50);
      await new Promise((go) => setTimeout(go, 5));
    }
    assert.ok(clock.now() - t0 >= 300);
    assert.deepEqual([r.ok, !r.ok && r.code], [false, 'PITCREW_MESSAGE_TIMEOUT']);
    assert.match(!r.ok ? r.error : '', /message 'never' did not finish within 300 ms/);
  });

  it('emit checks the tag grammar', async () => {
    for (const tag of ['Vehicle//BAD tag', '#', 'a/+/b', 'a/', '']) {
      const r = await request(socket, 'emit', { tag });
      assert.equal(r.ok, false, tag);
      assert.equal(!r.ok && r.code, 'PITCREW_CONTROL_REQUEST');
    }
    assert.equal((await request(socket, 'emit', { tag: 'custom/ok_tag-1' })).ok, true);
  });

  it('bad requests get a readable message with a code', async () => {
    const r = await ask(socket, '{"cmd":"nope"}');
    assert.equal(r.code, 'PITCREW_CONTROL_REQUEST');
    assert.equal(
      r.error,
      'bad request: unknown command (commands: status, worker, emit, call, rules, trace, signals, rollout, update, power, tap)',
    );
    assert.equal((await ask(socket, 'not json')).error, 'bad request: not a JSON line');
  });

  it('closes idle connections and caps how many are open', async () => {
    const idle = net.createConnection(socket);
    await once(idle, 'connect');
    await once(idle, 'close');
    const many = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const s = net.createConnection(socket);
        await once(s, 'connect');
        return s;
      }),
    );
    // Past the cap, the server closes new connections at once.
    const closed = await Promise.all(
      many.map((s) =>
        Promise.race([
          once(s, 'close').then(() => true),
          new Promise((r) => setTimeout(() => r(false), 100)),
        ]),
      ),
    );
    assert.ok(closed.filter(Boolean).length >= 4, `closed at once: ${closed.filter(Boolean).length}`);
    for (const s of many) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await request(socket, 'status')).ok, true);
  });

  it('the client survives a malformed answer', async () => {
    const fake = path.join(dir, 'fake.sock');
    const server = net.createServer((s) => s.end('garbage\n'));
    await new Promise<void>((r) => server.listen(fake, () => r()));
    after(() => server.close());
    await assert.rejects(request(fake, 'status'), { code: 'PITCREW_CONTROL_UNREACHABLE' });
  });
});

describe('one agent per data_dir, and a start that fails midway', () => {
  const config = (dir: string, socket: string) => {
    const file = path.join(dir, 'p.yaml');
    writeFileSync(
      file,
      `version: 1\nunit: { data_dir: ${dir}/var }\ncontrol: { socket: ${socket} }\nservices:\n  obd:\n    driver: sim-vehicle\n    settings: {}\n    workers: [{ name: w, interval: 200ms, messages: [{ handler: vin, returner: emit }] }]\n`,
    );
    return file;
  };

  it('a second agent on the same data_dir is refused; the first stays reachable', async () => {
    const dir = tmpDir();
    const first = startCli(['run', '-c', config(dir, `${dir}/var/a.sock`), '--events']);
    after(() => first.child.kill('SIGKILL'));
    await first.waitFor((l) => l.includes('system/agent/started'));
    const second = runCli(['run', '-c', config(dir, `${dir}/var/b.sock`)]);
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      /error \[PITCREW_AGENT_LOCKED\] \(unit\.data_dir\): another pitcrew agent is running on/,
    );
    assert.equal((await request(`${dir}/var/a.sock`, 'status')).ok, true);
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
  });

  it('never deletes what is at control.socket unless it is its own stale socket', () => {
    const dir = tmpDir();
    const victim = path.join(dir, 'victim.yaml');
    writeFileSync(victim, 'precious: true\n');
    const r = runCli(['run', '-c', config(dir, victim)]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /error \[PITCREW_SOCKET_PATH\] \(control\.socket\): cannot listen on .*victim\.yaml: it is not a socket/,
    );
    assert.equal(readFileSync(victim, 'utf8'), 'precious: true\n');
  });

  it('a socket directory that cannot be created stops what started and exits 1, naming the key', () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'afile'), '');
    const r = runCli(['run', '-c', config(dir, path.join(dir, 'afile/sub/ctl.sock'))]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /error \[PITCREW_START_FAILED\] \(control\.socket\): cannot start control: ENOTDIR/,
    );
    // The data dir lock was released: the stores closed.
    assert.ok(existsSync(path.join(dir, 'var/state.db')));
  });

  it('run --events | head ends when head does, stopping the agent gracefully', () => {
    const dir = tmpDir();
    const cmd = `"${process.execPath}" "${path.join(ROOT, 'node_modules/tsx/dist/cli.mjs')}" "${path.join(ROOT, 'agent/cli.ts')}" run -c "${config(dir, `${dir}/var/c.sock`)}" --events | head -n 3`;
    const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 3);
    assert.match(r.stderr, /events reader gone: stopping/);
  });

  it('pitcrew call (installed command) gives up after --timeout with PITCREW_MESSAGE_TIMEOUT', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'c.yaml');
    writeFileSync(
      file,
      `version: 1\nunit: { data_dir: var }\ncontrol: { socket: var/c.sock }\nservices:\n  m: { driver: module, settings: { module: ${ROOT}/test/fixtures/modules/rough.mjs } }\n`,
    );
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor((l) => l.includes('system/agent/started'));
    const r = await runBin(['call', 'm', 'never', '--timeout', '1s', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /error \[PITCREW_MESSAGE_TIMEOUT\]: message 'never' did not finish within 1000 ms/,
    );
  });

  it('a client that pipelines 50,000 requests and never reads holds about 1 MB of answers, not all of them', async () => {
    const { agent, dir } = agentFor('version: 1\n');
    const socket = path.join(dir, 'p.sock');
    const server = new ControlServer(agent.context({ socket }));
    agent.use(server);
    await agent.start();
    after(() => agent.stop());
    const one = JSON.stringify(await request(socket, 'status')).length;
    const c = net.createConnection(socket);
    after(() => c.destroy());
    await once(c, 'connect');
    c.pause();
    c.write(`${JSON.stringify({ cmd: 'status' })}\n`.repeat(50_000));
    const socks = (server as unknown as { sockets: Set<net.Socket> }).sockets;
    const unread = () => Math.max(0, ...[...socks].map((s) => s.writableLength));
    await waitFor(() => unread() > 1024 * 1024, 'the answers to fill what the client does not read');
    for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
    assert.ok(unread() < 1024 * 1024 + 17 * one, `${unread()} bytes of answers held for one client`);
    // Another client is answered meanwhile.
    assert.equal((await request(socket, 'status')).ok, true);
  });
});
