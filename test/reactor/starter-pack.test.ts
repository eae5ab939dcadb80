/**
 * The starter rule pack (rules/vehicle.yaml) over a recorded drive with a restart in it
 * (fixtures/drives): exactly the alerts and actions each rule should raise, and none of the false
 * ones (harsh braking from a reading stored before the restart).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigSync } from '../../agent/config/load.js';
import { replay } from '../../agent/reactor/replay.js';
import type { Trace } from '../../agent/reactor/traces.js';
import { FIXTURES } from '../helpers/agent.js';
import { ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const DRIVE = path.join(FIXTURES, 'drives/urban-restart.jsonl');
const { config } = loadConfigSync(path.join(ROOT, 'config/pitcrew.yaml'), {});
const starter = { rules: config.reactor.rules, maxDepth: config.reactor.max_depth, unit: config.unit };

/** The runs that did something visible: an emit, a log line, a record for the cloud. */
async function visible(file: string) {
  const traces: Trace[] = [];
  await replay(starter, file, (t) => traces.push(structuredClone(t)));
  return traces
    .filter((t) => t.actions.some((a) => ['emit', 'log', 'return'].includes(a.action)))
    .map((t) => `${t.rule} ${t.event.tag} ${t.event.ts}`);
}

describe('starter rule pack', () => {
  it('raises exactly the expected alerts over a recorded drive with a restart', async () => {
    const events = readFileSync(DRIVE, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { tag: string; ts: number; data: { value?: number } });
    // The fixture holds the trap: a fast reading before the restart, a standstill after it.
    const restart = events.findIndex((e, i) => i > 0 && e.tag === 'vehicle/obd/connected');
    const speeds = (from: number, to: number) =>
      events.slice(from, to).filter((e) => e.tag === 'vehicle/obd/speed');
    assert.ok(speeds(0, restart).at(-1)!.data.value! - speeds(restart, events.length)[0]!.data.value! > 15);
    assert.deepEqual(await visible(DRIVE), [
      'engine_started vehicle/engine/running 1795639703864',
      'new_dtc vehicle/dtc/new 1795640280044',
      'new_dtc vehicle/dtc/new 1795640580044',
      'engine_started vehicle/engine/running 1795641199034',
    ]);
  });

  it('harsh braking: a drop of more than 15 km/h between readings at most 2 s apart, and only then', async () => {
    const file = path.join(tmpDir(), 'braking.jsonl');
    const speed = (value: number, ts: number) =>
      JSON.stringify({ tag: 'vehicle/obd/speed', data: { value }, ts });
    writeFileSync(
      file,
      [
        speed(50, 1000),
        speed(30, 2000), // -20 in 1 s: harsh
        speed(20, 3000), // -10: not
        speed(0, 20_000), // -20, but 17 s later: not comparable
        speed(60, 21_000),
        speed(44, 23_000), // -16 in 2 s: harsh
        speed(20, 26_000), // -24 in 3 s: not comparable
      ].join('\n'),
    );
    assert.deepEqual(await visible(file), [
      'harsh_braking vehicle/obd/speed 2000',
      'harsh_braking vehicle/obd/speed 23000',
    ]);
  });
});
