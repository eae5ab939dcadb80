/**
 * What listens on the unit: the gRPC unix socket guarded as the control socket is, listeners that
 * share a path refused, the network-facing ones said out loud, the metrics endpoint bounded.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../agent/core/logger.js';
import { MetricsServer } from '../../agent/metrics/metrics-server.js';
import { UpdateGrpcServer } from '../../agent/updates/grpc-server.js';
import { agentFor } from '../helpers/agent.js';
import { runCli } from '../helpers/cli.js';
import { configFile, tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const api = { notifications: () => [], subscribe: () => () => {}, start: () => {} };
const grpcOn = (socket: string) => new UpdateGrpcServer({ listen: [`unix:${socket}`] }, api, silentLogger);

describe('the gRPC unix socket', () => {
  it('a second agent on the same path is refused and the live socket stays; a regular file is left alone', async () => {
    const dir = tmpDir();
    const socket = path.join(dir, 'update.sock');
    const first = grpcOn(socket);
    await first.start();
    after(() => first.stop());
    await assert.rejects(
      grpcOn(socket).start(),
      /cannot listen on .*update\.sock: another agent is listening on it/,
    );
    assert.ok(lstatSync(socket).isSocket());
    await new Promise<void>((resolve, reject) =>
      net
        .createConnection(socket)
        .on('connect', function (this: net.Socket) {
          this.destroy();
          resolve();
        })
        .on('error', reject),
    );
    const file = path.join(dir, 'notes.txt');
    writeFileSync(file, 'keep me');
    await assert.rejects(grpcOn(file).start(), /it is not a socket; it is left alone/);
    assert.equal(readFileSync(file, 'utf8'), 'keep me');
  });

  it('a stale socket of a dead agent is taken over', async () => {
    const dir = tmpDir();
    const socket = path.join(dir, 'update.sock');
    // A socket file no one listens on, as a killed process leaves it.
    execFileSync('python3', [
      '-c',
      'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])',
      socket,
    ]);
    assert.ok(existsSync(socket));
    const g = grpcOn(socket);
    await g.start();
    after(() => g.stop());
    assert.deepEqual(g.bound, [`unix:${socket}`]);
  });
});

describe('listeners in the config', () => {
  const validate = (body: string) => {
    const { file } = configFile(() => `version: 1\nupdates:\n  trust: { keys: [k.pub] }\n${body}`);
    return runCli(['validate', '-c', file]);
  };

  it('gRPC on the control socket, or twice on one path, is an error', () => {
    const same = validate('  grpc: { listen: "unix:var/pitcrew.sock" }\n');
    assert.equal(same.code, 1);
    assert.match(
      same.stderr,
      /updates\.grpc\.listen: .*var\/pitcrew\.sock is already control\.socket's socket/,
    );
    const twice = validate('  grpc: { listen: ["unix:a.sock", "unix:./a.sock"] }\n');
    assert.match(
      twice.stderr,
      /updates\.grpc\.listen\[1\]: .*a\.sock is already updates\.grpc\.listen's socket/,
    );
  });

  it('gRPC beyond loopback without TLS is an error; metrics beyond loopback is a warning', () => {
    const open = validate('  grpc: { listen: "0.0.0.0:8093" }\n');
    assert.equal(open.code, 1);
    assert.match(open.stderr, /updates\.grpc\.listen: 0\.0\.0\.0:8093 is beyond loopback without TLS/);
    assert.equal(validate('  grpc: { listen: "127.0.0.1:8093" }\n').code, 0);
    const { file } = configFile(() => 'version: 1\nmetrics: { listen: "0.0.0.0:9464" }\n');
    const metrics = runCli(['validate', '-c', file]);
    assert.equal(metrics.code, 0);
    assert.match(metrics.stderr, /warning: metrics\.listen 0\.0\.0\.0:9464 is reachable from the network/);
  });
});

describe('the metrics endpoint', () => {
  it('caps its connections and closes idle ones', async () => {
    const { agent } = agentFor('version: 1\n');
    const m = new MetricsServer(agent.context({ listen: '127.0.0.1:0' }), { maxConnections: 4, idleMs: 300 });
    await m.start();
    after(() => m.stop());
    const open = Array.from({ length: 12 }, () => net.createConnection(m.port!, '127.0.0.1'));
    const closed = new Set<net.Socket>();
    for (const s of open) {
      s.on('error', () => {});
      s.on('close', () => closed.add(s));
    }
    // Past the cap, connections are refused at once; the rest, sending nothing, are closed when idle.
    await waitFor(() => closed.size === 12, 'every silent connection closed');
    const scrape = await fetch(`http://127.0.0.1:${m.port}/metrics`);
    assert.equal(scrape.status, 200);
    await scrape.text();
  });
});
