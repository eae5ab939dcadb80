/**
 * `pitcrew import autopi` through the installed command, on AutoPi configs written from its docs
 * (test/fixtures/autopi): the converted config validates, what could not be converted is listed
 * with its line, and a converted custom service with its reactor runs on the agent.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { load } from 'js-yaml';
import type { Event } from '../../agent/core/bus.js';
import { ROOT, runBin, startCli } from '../helpers/cli.js';
import { tagged } from '../helpers/desired-unit.js';
import { tmpDir } from '../helpers/tmp.js';

const FIXTURES = path.join(ROOT, 'test/fixtures/autopi');

// The converted config, read loosely: the assertions say what each part must be.
// biome-ignore lint/suspicious/noExplicitAny: a YAML document of any shape
type Config = Record<string, any>;

/** Converts a fixture copied into `dir`; the config and the listed lines (`line:col path: why`). */
async function convert(dir: string, name: string) {
  copyFileSync(path.join(FIXTURES, name), path.join(dir, name));
  const r = await runBin(['import', 'autopi', name, '-o', 'pitcrew.yaml'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const listed = r.stderr
    .split('\n')
    .filter((l) => l.startsWith(`${name}:`))
    .map((l) => l.slice(name.length + 1));
  const config = load(readFileSync(path.join(dir, 'pitcrew.yaml'), 'utf8')) as Config;
  return { config, listed, file: path.join(dir, 'pitcrew.yaml') };
}

const has = (listed: string[], at: string, why: RegExp) =>
  assert.ok(
    listed.some((l) => l.startsWith(at) && why.test(l)),
    `expected ${at} … ${why} among:\n${listed.join('\n')}`,
  );

describe('pitcrew import autopi', () => {
  it("a pillar's engines: OBD, GNSS and motion workers and the reactor's mappings; the rest listed by line", async () => {
    const dir = tmpDir();
    const { config, listed, file } = await convert(dir, 'engines.yaml');
    const obd = config.services.obd;
    assert.equal(obd.driver, 'elm327');
    assert.deepEqual(obd.settings, { port: '/dev/serial0', baudrate: 9600, timeout: '1s' });
    const [battery, engine, profile] = obd.workers;
    // ELM_VOLTAGE is the voltage handler; the battery converter raises battery events as
    // battery_state does; alternating_value returns changes only.
    assert.deepEqual(battery.messages, [
      { handler: 'voltage', trigger: 'battery_state', filter: 'changed', returner: 'cloud' },
    ]);
    // The service's returner is each message's without one; a trigger named *_event maps by its name.
    assert.deepEqual(engine.messages[0], {
      handler: 'query',
      args: { pid: 'RPM' },
      trigger: 'engine_state',
      filter: 'changed',
      returner: 'cloud',
    });
    assert.equal(profile.on_error, 'stop');
    assert.equal(profile.delay, '30s');
    assert.deepEqual(profile.messages[1].args.pid, {
      name: 'OIL_TEMP_EXT',
      mode: '22',
      pid: 'F45C',
      bytes: 1,
      unit: '°C',
      formula: 'A - 40',
    });
    assert.equal(profile.messages.length, 2, 'the monitor message is left out');
    assert.equal(config.services.gnss.workers[0].messages[0].handler, 'location');
    assert.equal(config.services.motion.workers[0].interval, '500ms');
    assert.deepEqual(
      config.reactor.rules.map((r: { on: string; do: unknown[] }) => [r.on, r.do]),
      [
        ['re:^vehicle/(battery|engine|position)/.*', [{ forward: {} }]],
        ['re:^vehicle/battery/critical_level', [{ power: 'hibernate' }]],
      ],
    );
    has(listed, '4:3 minion:', /Salt minion's settings \(master, log_level_logfile\)/);
    has(listed, '32:28 minion.engines[0].obd_manager.workers[1].messages[1].converter:', /realistic_speed/);
    has(listed, '44:17 minion.engines[0].obd_manager.workers[2].messages[2]:', /'monitor'/);
    has(listed, '68:27 minion.engines[2].acc_manager.workers[0].messages[0].enricher:', /roll_pitch/);
    has(listed, '71:9 minion.engines[3].spm_manager:', /power section/);
    has(listed, '85:17 minion.engines[4].event_reactor.mappings[1].actions[0]:', /sleep timer/);
    has(listed, '94:3 hostapd:', /not a service/);
    // Nothing converted is also listed: every listed line is one of these kinds.
    for (const l of listed) assert.match(l, /not converted|left out|check:/, l);

    writeFileSync(file, `${readFileSync(file, 'utf8')}unit: { id: ap1 }\n`);
    const v = await runBin(['validate', '-c', file], { cwd: dir });
    assert.equal(v.code, 0, v.stderr + v.stdout);
  });

  it('a custom service: its settings, hooks, workers and reactors, run on the agent with a module for its code', async () => {
    const dir = tmpDir();
    const { config, listed, file } = await convert(dir, 'custom-service.yaml');
    const svc = config.services.tyre_monitor;
    assert.deepEqual(svc.settings, { module: './tyre_monitor.js', sensor_count: 4, low_kpa: 180 });
    assert.deepEqual(svc.hooks, [{ name: 'pressure_changed', kind: 'filter', use: 'changed' }]);
    assert.deepEqual(svc.workers[0].messages[0], {
      handler: 'read_pressures',
      args: { unit: 'kPa', args: ['front_left', 'front_right'] },
      filter: 'pressure_changed',
      returner: 'cloud',
    });
    assert.deepEqual(
      svc.reactors.map((r: { name: string }) => r.name),
      ['low_pressure', 'tyre_report'],
    );
    assert.equal(svc.reactors[1].on, 're:^vehicle/tyre/.*/report$', 'fnmatch * spans segments, as in Python');
    assert.deepEqual(svc.reactors[1].do, [{ exec: { command: ['/usr/local/bin/tyre-report', '--all'] } }]);
    has(listed, '4:5 services[0]:', /write \.\/tyre_monitor\.js with defineService/);
    has(listed, '13:9 services[0].hooks[1]:', /Salt function cloud\.returner_data/);
    has(listed, '27:24 services[0].workers[0].messages[1].validator:', /validators/);
    has(listed, '53:13 services[0].reactors[2].actions[0]:', /shell line/);
    has(listed, '57:20 services[0].reactors[3].condition:', /context has no counterpart/);

    // The code the importer cannot convert, written as a module; then the agent runs the rest.
    writeFileSync(
      path.join(dir, 'tyre_monitor.js'),
      `import { defineService, z } from 'pitcrew';
export default defineService({
  settings: z.object({ sensor_count: z.number(), low_kpa: z.number() }),
  create(s, ctx) {
    const r = (type, value) => ({ type, value, ts: ctx.clock.now() });
    return { handlers: {
      read_pressures: async (a) => r('pressures', a.args.map(() => 200)),
      read_temperatures: async () => r('temperatures', [20, 21]),
      self_test: async () => r('self_test', s.sensor_count),
    } };
  },
});
`,
    );
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8')}unit: { id: ap2 }\ncontrol: { socket: ${dir}/ctl.sock }\n`,
    );
    const v = await runBin(['validate', '-c', file], { cwd: dir });
    assert.equal(v.code, 0, v.stderr + v.stdout);
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin', cwd: dir });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor(tagged('system/agent/started'));
    // 200 kPa is not low; 150 is: the first vehicle/tyre/low seen must be the second event's.
    for (const value of [200, 150]) {
      const r = await runBin(
        ['emit', 'vehicle/tyre/front_left/pressure', JSON.stringify({ value }), '-c', file],
        {
          cwd: dir,
        },
      );
      assert.equal(r.code, 0, r.stderr);
    }
    const low = JSON.parse(await agent.waitFor(tagged('vehicle/tyre/low'))) as Event;
    assert.deepEqual(low.data, { wheel: 'front_left', kpa: 150 });
  });

  it('a file that is not YAML fails with its position', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'bad.yaml'), 'services:\n  - name: x\n   workers: [\n');
    const r = await runBin(['import', 'autopi', 'bad.yaml'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^bad\.yaml:\d+:\d+ .*YAML:/m);
  });
});
