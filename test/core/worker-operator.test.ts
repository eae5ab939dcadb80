/**
 * Operators see errors and keep control: message errors are logged (first time, then once a
 * minute per distinct error with a count); a worker paused, killed or started by hand stays so
 * across a restart of its service; a failed worker shows no next run.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfigSync } from '../../agent/config/load.js';
import { FakeClock } from '../../agent/core/clock.js';
import { ErrorReports } from '../../agent/core/error-reports.js';
import { Agent } from '../../agent/runtime/agent.js';
import { agentFor } from '../helpers/agent.js';
import { configFile } from '../helpers/tmp.js';

function recordingLog() {
  const lines: { msg: string; count: number }[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

describe('message errors in the log', () => {
  it('logs the first time, then once a minute per distinct error with the count since', async () => {
    const clock = new FakeClock();
    const { log, lines } = recordingLog();
    const r = new ErrorReports(clock, log);
    for (let s = 0; s < 130; s++) {
      r.report('a', 'worker obd/fast message 1 (query): bad thing');
      if (s % 10 === 0) r.report('b', 'worker obd/fast message 2 (vin): other');
      await clock.advance(1000);
    }
    assert.deepEqual(
      lines.map((l) => [l.msg, l.count]),
      [
        ['worker obd/fast message 1 (query): bad thing', 1],
        ['worker obd/fast message 2 (vin): other', 1],
        ['worker obd/fast message 1 (query): bad thing (60 times since the last line)', 60],
        ['worker obd/fast message 2 (vin): other (6 times since the last line)', 6],
        ['worker obd/fast message 1 (query): bad thing (60 times since the last line)', 60],
        ['worker obd/fast message 2 (vin): other (6 times since the last line)', 6],
      ],
    );
  });

  it('an agent whose handler fails nine times logs it once, with the worker and message', async () => {
    const { dir, file } = configFile(
      () => `version: 1
services:
  obd:
    driver: sim-vehicle
    settings: {}
    workers:
      - name: fast
        interval: 1s
        messages:
          - { handler: query, args: { pid: NOPE } }
`,
    );
    const { log, lines } = recordingLog();
    const clock = new FakeClock();
    const agent = new Agent(loadConfigSync(file, {}).config, {
      clock,
      logger: log,
      baseDir: dir,
    });
    after(() => agent.stop());
    await agent.start();
    await clock.advance(8000); // runs at 0, 1 s … 8 s
    const w = agent.status().services.obd!.workers[0]!;
    assert.equal(Object.values(w.errors[0]!)[0], 9);
    const logged = lines.filter((l) => l.msg.startsWith('worker obd/fast message 1 (query): unknown PID'));
    assert.equal(logged.length, 1);
  });
});

describe('workers keep what the operator did', () => {
  it('paused, killed and started by hand: so again after the service restarts', async () => {
    const h = agentFor(`version: 1
services:
  dev:
    driver: module
    settings: { module: $FIXTURES/modules/operator.mjs }
    restart: { delay: 1s, max_delay: 1s, jitter: 0 }
    workers:
      - { name: a, interval: 1s, messages: [{ handler: tick }] }
      - { name: b, interval: 1s, auto_start: false, messages: [{ handler: tick }] }
      - { name: c, interval: 1s, messages: [{ handler: tick }] }
      - { name: d, interval: 1s, on_error: stop, messages: [{ handler: boom }] }
`);
    after(() => h.agent.stop());
    await h.agent.start();
    await h.clock.advance(1500);
    const states = () =>
      Object.fromEntries(h.agent.status().services.dev!.workers.map((w) => [w.name, w.state]));
    assert.deepEqual(states(), { a: 'running', b: 'stopped', c: 'running', d: 'failed' });
    const d = h.agent.status().services.dev!.workers.find((w) => w.name === 'd')!;
    assert.equal(d.nextRun, undefined);
    await h.agent.worker('dev', 'a', 'pause');
    await h.agent.worker('dev', 'b', 'start');
    await h.agent.worker('dev', 'c', 'kill');
    await h.agent.call('dev', 'crash');
    await h.clock.advance(1100);
    assert.equal(h.agent.status().services.dev!.restarts, 1);
    assert.deepEqual(states(), { a: 'paused', b: 'running', c: 'killed', d: 'failed' });
    const byName = Object.fromEntries(h.agent.status().services.dev!.workers.map((w) => [w.name, w]));
    assert.equal(byName.a!.nextRun, undefined);
    assert.equal(byName.c!.nextRun, undefined);
    await h.agent.worker('dev', 'a', 'resume');
    await h.agent.call('dev', 'crash');
    await h.clock.advance(1100);
    assert.equal(states().a, 'running');
  });
});
