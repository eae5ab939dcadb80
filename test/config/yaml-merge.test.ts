/**
 * YAML's merge key (`<<: *defaults`): a mapping takes the entries of one or more others, its own
 * keys winning, and every merged entry keeps the position it was written at.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ConfigIssue } from '../../agent/config/errors.js';
import { type LNode, parseYamlSource } from '../../agent/config/yaml-source.js';
import type { Trace } from '../../agent/reactor/traces.js';
import { runBin } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

function plain(node: LNode): unknown {
  if (node.t === 'val') return node.value;
  if (node.t === 'seq') return node.items.map(plain);
  return Object.fromEntries([...node.entries].map(([k, e]) => [k, plain(e.node)]));
}

function parse(text: string) {
  const issues: ConfigIssue[] = [];
  const root = parseYamlSource('f.yaml', text, {}, issues)!;
  assert.deepEqual(issues, []);
  return root;
}

describe('YAML merge keys', () => {
  it("a mapping's own keys win over merged ones, written before or after the merge", () => {
    const root = parse(`base: &b { a: 1, b: 2, c: 3 }
use:
  a: 10
  <<: *b
  c: 30
`);
    assert.deepEqual(plain(root), { base: { a: 1, b: 2, c: 3 }, use: { a: 10, b: 2, c: 30 } });
  });

  it('of a list of mappings, the first to have a key gives it', () => {
    const root = parse(`one: &one { a: 1 }
two: &two { a: 2, b: 2 }
use: { <<: [*one, *two], c: 3 }
`);
    assert.deepEqual((plain(root) as { use: unknown }).use, { a: 1, b: 2, c: 3 });
  });

  it('a merged entry is where it was written', () => {
    const root = parse(`base: &b
  a: 1
use:
  <<: *b
`);
    assert.equal(root.t, 'map');
    const use = root.entries.get('use')!.node;
    assert.equal(use.t, 'map');
    const a = use.entries.get('a')!;
    assert.deepEqual([a.keyPos.line, a.keyPos.column, a.node.pos.line, a.node.pos.column], [2, 3, 2, 6]);
  });

  it('an inline mapping merges as an alias does', () => {
    assert.deepEqual(plain(parse('use: { <<: { a: 1 }, b: 2 }\n')), { use: { a: 1, b: 2 } });
  });

  it('a key merged and then written twice is still a duplicate', () => {
    const issues: ConfigIssue[] = [];
    parseYamlSource('f.yaml', 'b: &b { a: 1 }\nuse:\n  <<: *b\n  a: 2\n  a: 3\n', {}, issues);
    assert.deepEqual(
      issues.map((i) => [i.line, i.column, i.path, i.message]),
      [[5, 3, 'use.a', "duplicate key 'a' (first at line 4:3)"]],
    );
  });

  it('a rule made from another runs, through the installed command', async () => {
    const dir = tmpDir();
    const config = path.join(dir, 'pitcrew.yaml');
    writeFileSync(
      config,
      `version: 1
reactor:
  rules:
    - &alert
      name: speed_high
      on: vehicle/obd/speed
      when: { ">": [{ var: event.data.value }, 100] }
      throttle: 1m
      do: [{ emit: { tag: "alert/{{ event.tag }}" } }]
    - { <<: *alert, name: rpm_high, on: vehicle/obd/rpm, when: { ">": [{ var: event.data.value }, 4000] } }
`,
    );
    const drive = path.join(dir, 'drive.jsonl');
    const t0 = Date.UTC(2026, 4, 1, 8);
    const events = [
      ['vehicle/obd/rpm', 3000],
      ['vehicle/obd/rpm', 4500],
      ['vehicle/obd/speed', 120],
      ['vehicle/obd/speed', 130],
    ].map(([tag, value], i) => JSON.stringify({ tag, data: { value }, ts: t0 + i * 1000 }));
    writeFileSync(drive, `${events.join('\n')}\n`);
    const r = await runBin(['replay', '-c', config, drive]);
    assert.equal(r.code, 0, r.stderr);
    const traces = r.stdout.split('\n').map((l) => JSON.parse(l) as Trace);
    assert.deepEqual(
      traces.map((t) => [t.rule, t.condition, t.skipped ?? 'ran']),
      [
        ['rpm_high', false, 'ran'],
        ['rpm_high', true, 'ran'],
        ['speed_high', true, 'ran'],
        // The template's throttle came along.
        ['speed_high', true, 'throttle'],
      ],
    );
  });
});
