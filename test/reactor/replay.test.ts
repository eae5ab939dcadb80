import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Event } from '../../agent/core/bus.js';
import type { Trace } from '../../agent/reactor/traces.js';
import { agentFor } from '../helpers/agent.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

/** Ten simulated minutes of the default car, recorded as `pitcrew run --events` would print them. */
async function recordDrive(file: string): Promise<Event[]> {
  const { agent, clock, events } = agentFor(`
version: 1
services:
  obd:
    driver: sim-vehicle
    settings: { seed: 42, speedup: 5 }
    hooks: [{ name: engine, kind: trigger, use: engine_state }]
    workers:
      - name: fast
        interval: 1s
        messages:
          - { handler: query, args: { pid: RPM }, trigger: engine, returner: [signals, emit] }
          - { handler: query, args: { pid: SPEED }, returner: [signals, emit] }
`);
  after(() => agent.stop());
  await agent.start();
  await clock.advance(120_000);
  await agent.stop();
  writeFileSync(file, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return events;
}

describe('pitcrew replay', () => {
  it('runs the starter rule pack over a recorded drive, tracing every matched event', async () => {
    const dir = tmpDir();
    const drive = path.join(dir, 'drive.jsonl');
    const recorded = await recordDrive(drive);
    const config = path.join(dir, 'rules-only.yaml');
    // Includes stay inside the config's tree: the starter pack is copied next to the config.
    copyFileSync(path.join(ROOT, 'rules/vehicle.yaml'), path.join(dir, 'vehicle.yaml'));
    writeFileSync(config, 'version: 1\ninclude: vehicle.yaml\ncloud: {}\n');
    const r = runCli(['replay', '-c', config, drive]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`replayed ${recorded.length} events`));
    const traces = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Trace);
    for (const t of traces) {
      assert.deepEqual(
        Object.keys(t).filter((k) => !['skipped', 'error'].includes(k)),
        ['rule', 'ts', 'event', 'condition', 'actions'],
      );
    }
    const started = traces.filter((t) => t.rule === 'engine_started');
    assert.equal(started.length, recorded.filter((e) => e.tag === 'vehicle/engine/running').length);
    assert.ok(started.length >= 1);
    // Side effects other than emit and state are only traced in a dry run.
    assert.deepEqual(started[0]!.actions, [
      { action: 'log', ok: true, ms: 0, dry: true },
      { action: 'state', ok: true, ms: 0 },
      { action: 'forward', ok: true, ms: 0, dry: true },
    ]);
    const speedTraces = traces.filter((t) => t.rule === 'harsh_braking');
    assert.equal(speedTraces.length, recorded.filter((e) => e.tag === 'vehicle/obd/speed').length);
    // The same recording gives the same traces.
    assert.equal(runCli(['replay', '-c', config, drive]).stdout, r.stdout);
  });

  it('rejects bad lines with their numbers, keeps going, and exits 1', () => {
    const dir = tmpDir();
    const drive = path.join(dir, 'drive.jsonl');
    writeFileSync(drive, `${JSON.stringify({ tag: 'vehicle/engine/running', data: {}, ts: 1000 })}\n`);
    appendFileSync(drive, 'not json\n{"tag": "x"}\n');
    appendFileSync(drive, `${JSON.stringify({ tag: 'vehicle/engine/running', data: {}, ts: 2000 })}\n`);
    const config = path.join(dir, 'c.yaml');
    writeFileSync(
      config,
      'version: 1\nreactor:\n  rules:\n    - { name: r, on: vehicle/engine/running, do: [{ emit: { tag: out } }] }\n',
    );
    const r = runCli(['replay', '-c', config, drive]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /drive\.jsonl:2: rejected: Unexpected token/);
    assert.match(r.stderr, /drive\.jsonl:3: rejected: no numeric 'ts' \(ms epoch\)/);
    assert.match(r.stderr, /replayed 2 events, rejected 2 lines/);
    assert.equal(r.stdout.trim().split('\n').length, 2);
  });
});
