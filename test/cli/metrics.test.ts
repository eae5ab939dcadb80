/** The Prometheus endpoint of the installed command, scraped over HTTP on 127.0.0.1. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/agent.js';
import { runBin, startCli } from '../helpers/cli.js';
import { configFile, tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics endpoint (real process)', () => {
  it('serves events, rules, workers, services, outbox and process figures', async () => {
    const port = await freePort();
    const { file } = configFile(
      (dir) => `version: 1
unit: { id: m-1, data_dir: var }
control: { socket: ${dir}/ctl.sock }
metrics: { listen: "127.0.0.1:${port}" }
services:
  obd:
    driver: sim-vehicle
    settings: {}
    workers:
      - name: fast
        interval: 50ms
        messages:
          - { handler: query, args: { pid: COOLANT_TEMP }, returner: [signals, emit] }
          - { handler: query, args: { pid: NOPE } }
reactor:
  rules:
    - { name: every_reading, on: vehicle/obd/coolant_temp, do: [{ emit: { tag: seen/coolant } }] }
    - { name: throttled, on: vehicle/obd/coolant_temp, throttle: 1h, do: [{ emit: { tag: seen/once } }] }
`,
    );
    const agent = startCli(['run', '-c', file], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    const scrape = async (p = '/metrics') => {
      const res = await fetch(`http://127.0.0.1:${port}${p}`);
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    let text = '';
    const poll = setInterval(
      () =>
        void scrape().then(
          (r) => (text = r.text),
          () => {},
        ),
      100,
    );
    after(() => clearInterval(poll));
    await waitFor(
      () => (sample(text, 'pitcrew_worker_iterations_total{service="obd",worker="fast"}') ?? 0) >= 5,
      'five iterations',
      () => text,
    );
    const r = await scrape();
    assert.equal(r.status, 200);
    assert.match(r.type!, /^text\/plain/);
    const m = (s: string) => sample(r.text, s);
    assert.ok(m('pitcrew_events_total{family="vehicle"}')! >= 5);
    assert.ok(m('pitcrew_events_total{family="seen"}')! >= 5);
    assert.ok(m('pitcrew_rule_runs_total{rule="every_reading"}')! >= 5);
    assert.equal(m('pitcrew_rule_runs_total{rule="throttled"}'), 1);
    assert.ok(m('pitcrew_rule_skips_total{rule="throttled"}')! >= 4);
    assert.equal(m('pitcrew_rule_errors_total{rule="every_reading"}'), 0);
    assert.ok(m('pitcrew_worker_errors_total{service="obd",worker="fast"}')! >= 5);
    assert.equal(m('pitcrew_service_up{service="obd"}'), 1);
    assert.equal(m('pitcrew_service_restarts_total{service="obd"}'), 0);
    assert.equal(m('pitcrew_outbox_records'), 0);
    assert.equal(m('pitcrew_cloud_connected'), 0);
    assert.ok(m('process_resident_memory_bytes')! > 10e6);
    assert.ok(m('nodejs_eventloop_lag_seconds')! >= 0);
    assert.equal((await scrape('/')).status, 404);
    const healthy = await scrape('/health');
    assert.equal(healthy.status, 200);
    assert.match(healthy.type!, /^application\/json/);
    const h = JSON.parse(healthy.text) as {
      ok: boolean;
      reasons: string[];
      services: Record<string, string>;
    };
    assert.deepEqual([h.ok, h.reasons, h.services], [true, [], { obd: 'running' }]);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
  });

  it('health is 503 with the reason while a service is not running', async () => {
    const port = await freePort();
    const { file } = configFile(
      (dir) => `version: 1
unit: { id: m-2, data_dir: var }
control: { socket: ${dir}/ctl.sock }
metrics: { listen: "127.0.0.1:${port}" }
services:
  obd: { driver: sim-vehicle, settings: {} }
  sensor:
    driver: module
    settings: { module: ${path.join(FIXTURES, 'modules/flaky.mjs')} }
    restart: { delay: 1h }
`,
    );
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor((l) => l.includes('"tag":"system/service/sensor/failed"'));
    await agent.waitFor((l) => l.includes('"tag":"system/agent/started"'));
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(res.status, 503);
    const h = (await res.json()) as { ok: boolean; reasons: string[]; services: Record<string, string> };
    assert.equal(h.ok, false);
    assert.deepEqual(h.services, { obd: 'running', sensor: 'restarting' });
    assert.deepEqual(h.reasons, ['service sensor is restarting: sensor not found on /dev/i2c-1']);
  });

  it('is off by default, and a bad listen address is a config error', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'pitcrew.yaml');
    writeFileSync(file, 'version: 1\nmetrics: { listen: "9464" }\n');
    const r = await runBin(['validate', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /metrics\.listen: listen is host:port/);
  });
});
