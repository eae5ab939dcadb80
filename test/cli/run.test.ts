import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Event } from '../../agent/core/bus.js';
import { FIXTURES } from '../helpers/agent.js';
import { ROOT, type Runner, runBin, runCli, startCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const tagIs = (tag: string) => (line: string) =>
  line.startsWith('{') && (JSON.parse(line) as Event).tag === tag;

function config(dir: string) {
  const file = path.join(dir, 'pitcrew.yaml');
  writeFileSync(
    file,
    `version: 1
unit: { id: "\${env:PITCREW_TEST_UNIT}", data_dir: var }
control: { socket: var/control.sock }
services:
  obd:
    driver: sim-vehicle
    settings: { seed: 3, speedup: 60 }
    hooks:
      - { name: engine, kind: trigger, use: engine_state }
    workers:
      - name: fast
        interval: 200ms
        messages:
          - { handler: query, args: { pid: RPM }, trigger: engine, returner: [signals, emit] }
          - { handler: query, args: { pid: SPEED }, returner: [signals, emit] }
  flaky:
    driver: module
    settings: { module: ${FIXTURES}/modules/flaky.mjs }
    restart: { delay: 100ms, max_delay: 1s, jitter: 0 }
reactor:
  rules:
    - name: on_ping
      on: custom/+/ping
      do:
        - emit: { tag: "custom/{{ match.0 }}/pong", data: { n: "{{ event.data.n }}" } }
        - state: { set: last_ping, value: "{{ event.data.n }}" }
`,
  );
  return file;
}

describe('pitcrew run (real process)', () => {
  const dir = tmpDir();
  const file = config(dir);
  // The unit's id comes from the agent's own environment (as a systemd unit's secrets do).
  const agent = startCli(['run', '-c', file, '--events'], { env: { PITCREW_TEST_UNIT: 'cli-test' } });
  after(() => agent.child.kill('SIGKILL'));
  const socket = path.join(dir, 'var/control.sock');
  const ctl = (...args: string[]) => runCli([...args, '--socket', socket]);

  it('prints bus events as JSON lines: readings, engine events, a failing service restarted', async () => {
    await agent.waitFor(tagIs('system/agent/started'));
    await agent.waitFor(tagIs('vehicle/engine/running'));
    const rpm = JSON.parse(await agent.waitFor(tagIs('vehicle/obd/rpm'))) as Event;
    assert.equal(rpm.source, 'obd');
    assert.deepEqual(Object.keys(rpm).sort(), ['data', 'source', 'tag', 'ts']);
    await agent.waitFor(
      (l) => tagIs('system/service/flaky/failed')(l) && (JSON.parse(l) as Event).data.restarts === 2,
    );
    // --events keeps stdout for events only; logs went to stderr.
    assert.ok(agent.lines.every((l) => l.startsWith('{"tag":')));
  });

  it('serves the control socket with mode 0600', () => {
    assert.equal(statSync(socket).mode & 0o777, 0o600);
  });

  it('status shows services, workers and signals', () => {
    const r = ctl('status');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as {
      unit: string;
      services: Record<string, { state: string; workers: { name: string }[] }>;
    };
    assert.equal(s.unit, 'cli-test');
    assert.equal(s.services.obd!.state, 'running');
    assert.deepEqual(
      s.services.obd!.workers.map((w) => w.name),
      ['fast'],
    );
    assert.ok(['restarting', 'starting'].includes(s.services.flaky!.state));
  });

  it("client commands read the control socket from the config without the agent's environment", () => {
    assert.equal(process.env.PITCREW_TEST_UNIT, undefined);
    const byFile = runCli(['status', '-c', file]);
    assert.equal(byFile.code, 0, byFile.stderr);
    assert.equal((JSON.parse(byFile.stdout) as { unit: string }).unit, 'cli-test');
    // Without -c: $PITCREW_CONFIG, from any directory.
    const byEnv = runCli(['status'], { cwd: tmpDir(), env: { PITCREW_CONFIG: file } });
    assert.equal(byEnv.code, 0, byEnv.stderr);
    // A full load (validate) still needs it, and says which.
    const full = runCli(['validate', '-c', file]);
    assert.equal(full.code, 1);
    assert.match(full.stderr, /unit\.id: environment variable PITCREW_TEST_UNIT is not set/);
  });

  it('tap streams the matching events of the running agent, and stops after --count', async () => {
    const tap = startCli(['tap', 'tapped/+', '-n', '2', '--socket', socket], { runner: 'bin' });
    after(() => tap.child.kill('SIGKILL'));
    // Pings until the tap has seen two: it may have joined after the first ones.
    const pinging = setInterval(
      () => void runBin(['emit', 'tapped/hello', '{"n":1}', '--socket', socket]),
      200,
    );
    after(() => clearInterval(pinging));
    assert.equal(await tap.exited, 0, tap.stderr());
    clearInterval(pinging);
    assert.equal(tap.lines.length, 2);
    for (const line of tap.lines) {
      const e = JSON.parse(line) as Event;
      assert.deepEqual([e.tag, e.data, e.source], ['tapped/hello', { n: 1 }, 'control']);
    }
    const bad = await runBin(['tap', 're:(a+)+', '--socket', socket]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /PITCREW_PATTERN_INVALID/);
  });

  it('call runs a handler and prints its result as one JSON line', () => {
    const r = ctl('call', 'obd', 'query', '{"pid":"COOLANT_TEMP"}');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 1);
    const result = JSON.parse(r.stdout) as { type: string; value: number; unit: string };
    assert.equal(result.type, 'coolant_temp');
    assert.equal(result.unit, '°C');
    const bad = ctl('call', 'obd', 'query', '{"pid":"NOPE"}');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown PID "NOPE"/);
  });

  it('emit puts an event on the bus', async () => {
    const r = ctl('emit', 'custom/test/ping', '{"n":1}');
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(await agent.waitFor(tagIs('custom/test/ping'))) as Event;
    assert.deepEqual([e.data, e.source], [{ n: 1 }, 'control']);
  });

  it('rules run on the live bus; rules and trace show them', async () => {
    const pong = JSON.parse(await agent.waitFor(tagIs('custom/test/pong'))) as Event;
    assert.deepEqual([pong.data, pong.source], [{ n: 1 }, 'rule:on_ping']);
    const rules = ctl('rules');
    assert.equal(rules.code, 0, rules.stderr);
    const list = JSON.parse(rules.stdout) as { name: string; runs: number }[];
    assert.deepEqual(
      list.map((r) => [r.name, r.runs]),
      [['on_ping', 1]],
    );
    const trace = ctl('trace', 'on_ping');
    assert.equal(trace.code, 0, trace.stderr);
    const lines = trace.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: { tag: string }; actions: { action: string; ok: boolean }[] });
    assert.deepEqual(
      lines.map((t) => [t.event.tag, t.actions.map((a) => [a.action, a.ok])]),
      [
        [
          'custom/test/ping',
          [
            ['emit', true],
            ['state', true],
          ],
        ],
      ],
    );
    const none = ctl('trace', 'nope');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no rule 'nope'/);
  });

  it("a rule's failure is said in the agent's log", async () => {
    assert.equal(ctl('emit', 'custom/test/ping', '{}').code, 0);
    const line = JSON.parse(await agent.waitFor((l) => l.includes('"rule":"on_ping"'), 20_000, 'stderr')) as {
      msg: string;
      errors: number;
    };
    assert.match(line.msg, /^rule on_ping failed: 'event\.data\.n' is not set/);
    assert.equal(line.errors, 1);
  });

  it('worker pause, resume, kill and start', async () => {
    const state = (action: string) => {
      const r = ctl('worker', action, 'obd', 'fast');
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { state: string }).state;
    };
    assert.equal(state('pause'), 'paused');
    const n = agent.lines.filter(tagIs('vehicle/obd/rpm')).length;
    // With no action, `worker` lists (as `rollout`, `update` and `power` show their status).
    const list = JSON.parse(ctl('worker').stdout) as {
      service: string;
      name: string;
      state: string;
    }[];
    assert.deepEqual(
      list.map((w) => [w.service, w.name, w.state]),
      [['obd', 'fast', 'paused']],
    );
    // While paused nothing is read: a control round trip later the count is unchanged.
    assert.equal(agent.lines.filter(tagIs('vehicle/obd/rpm')).length, n);
    assert.equal(state('resume'), 'running');
    await agent.waitFor(() => agent.lines.filter(tagIs('vehicle/obd/rpm')).length > n);
    assert.equal(state('kill'), 'killed');
    assert.equal(state('start'), 'running');
    const rollout = ctl('rollout');
    assert.equal(rollout.code, 0, rollout.stderr);
    assert.deepEqual(JSON.parse(rollout.stdout), JSON.parse(ctl('rollout', 'status').stdout));
    const unknown = ctl('worker', 'pause', 'obd', 'nope');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /service 'obd' has no worker 'nope'/);
  });

  it('stops on SIGTERM within 5 s with exit code 0', async () => {
    const t0 = Date.now();
    agent.child.kill('SIGTERM');
    const code = await agent.exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 5000);
    assert.ok(agent.lines.some(tagIs('system/agent/stopping')));
    assert.ok(agent.lines.some(tagIs('system/service/obd/stopped')));
    // State set while running is on disk after the stop.
    const db = new Database(path.join(dir, 'var/state.db'), { readonly: true });
    const row = db.prepare("SELECT value FROM state WHERE key = 'last_ping'").get() as
      | { value: string }
      | undefined;
    db.close();
    assert.equal(row?.value, '1');
  });

  it('a control command against a stopped agent says so', () => {
    const r = ctl('status');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach the agent at .*control\.sock: is the agent running\?/);
  });
});

describe('pitcrew run when its output goes away', () => {
  it('`run --events 2>&1 | head -3` ends, exit code 0: no write to the dead pipe holds it', {
    timeout: 60_000,
  }, async () => {
    const dir = tmpDir();
    const file = config(dir);
    // bash waits for every command of a pipeline: it returns only once the agent has exited.
    const sh = spawn(
      'bash',
      [
        '-c',
        `"${ROOT}/bin/pitcrew.js" run -c "${file}" --events 2>&1 | head -3 >/dev/null; echo "agent exit \${PIPESTATUS[0]}"`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PITCREW_TEST_UNIT: 'cli-test' } },
    );
    after(() => sh.kill('SIGKILL'));
    let out = '';
    sh.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    await new Promise((resolve) => sh.on('close', resolve));
    assert.equal(out.trim(), 'agent exit 0');
  });
});

describe('pitcrew run with a bad config', () => {
  it('prints the errors and exits 1', () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'bad.yaml'), 'version: 1\nservices:\n  x: { driver: nope, settings: {} }\n');
    const r = runCli(['run', '-c', path.join(dir, 'bad.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.yaml:3:16 services\.x\.driver: unknown driver 'nope'/);
  });
});

describe('the default config (npm start)', () => {
  /** The default config in a scratch data dir, no cloud: from the sources (npm start) or installed. */
  const defaultAgent = (runner: Runner) => {
    const dir = tmpDir();
    const agent = startCli(['run', '--events'], {
      runner,
      env: {
        PITCREW_DATA_DIR: path.join(dir, 'var'),
        PITCREW_CONTROL_SOCKET: path.join(dir, 'ctl.sock'),
        PITCREW_MQTT_URL: '',
      },
    });
    after(() => agent.child.kill('SIGKILL'));
    return agent;
  };

  it('runs a simulated drive with no hardware and no server, and stops cleanly', async () => {
    const agent = defaultAgent('tsx');
    await agent.waitFor(tagIs('vehicle/obd/connected'));
    await agent.waitFor(tagIs('vehicle/engine/not_running'));
    await agent.waitFor(tagIs('vehicle/position/fix'));
    await agent.waitFor(tagIs('vehicle/obd/speed'));
    await agent.waitFor(tagIs('system/worker/obd/identity/completed'));
    agent.child.kill('SIGINT');
    assert.equal(await agent.exited, 0);
  });

  it('the installed command, stopped, exits once its last log lines are written', async () => {
    const agent = defaultAgent('bin');
    await agent.waitFor(tagIs('vehicle/obd/speed'));
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
    const logs = agent
      .stderr()
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.ok(logs.includes('SIGTERM: stopping'), logs.join('\n'));
    assert.equal(logs.at(-1), 'agent stopped');
  });
});
