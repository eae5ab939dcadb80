/**
 * A changed file parsed only where it changed: the tree a splice makes must be the tree a whole
 * parse of the new text makes, positions included, or there must be no splice at all.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError, type ConfigIssue, formatIssue } from '../../agent/config/errors.js';
import { loadConfigSync } from '../../agent/config/load.js';
import { ConfigMemo, type KeptTree } from '../../agent/config/memo.js';
import { type LNode, parseYaml } from '../../agent/config/yaml-source.js';
import { spliceYaml } from '../../agent/config/yaml-splice.js';
import { tmpDir } from '../helpers/tmp.js';

/** A tree as comparable data: entries in their order, every position. */
function shape(node: LNode | undefined): unknown {
  if (!node) return node;
  const at = `${node.pos.line}:${node.pos.column}`;
  if (node.t === 'val') return [at, node.value];
  if (node.t === 'seq') return [at, node.items.map(shape)];
  return [at, [...node.entries].map(([k, e]) => [k, `${e.keyPos.line}:${e.keyPos.column}`, shape(e.node)])];
}

function kept(text: string): KeptTree | undefined {
  const issues: ConfigIssue[] = [];
  const parsed = parseYaml('f.yaml', text, ENV, issues);
  return issues.length === 0 && parsed.node ? { text, node: parsed.node, linked: parsed.linked } : undefined;
}

const ENV = { X: 'x' };

/**
 * The splice of `next` over `before`, checked against a whole parse. A splice moves nodes of
 * `before` in place: after one, `before` is of no use (as in the memo).
 */
function splice(before: KeptTree, next: string): KeptTree | undefined {
  const issues: ConfigIssue[] = [];
  const whole = parseYaml('f.yaml', next, ENV, issues);
  const spliced = spliceYaml('f.yaml', before, next, ENV);
  if (!spliced) return undefined;
  assert.deepEqual(issues, [], `spliced, though a whole parse finds problems:\n${next}`);
  assert.deepEqual(
    shape(spliced.node),
    shape(whole.node),
    `a splice differs from a whole parse of:\n${next}`,
  );
  assert.equal(spliced.linked, whole.linked);
  return { text: next, node: spliced.node!, linked: spliced.linked };
}

/** Whether `next` spliced over `before` (checked against a whole parse). */
const check = (before: KeptTree, next: string): boolean => splice(before, next) !== undefined;

const RULES = Array.from({ length: 6 }, (_, i) => ({
  name: `r${i}`,
  on: i % 2 ? 'vehicle/speed' : 'obd/*',
  when: { and: [{ '>': [{ var: 'value' }, i * 10] }, { in: [{ var: 'gear' }, ['D', 'S']] }] },
  do: [
    { emit: { tag: `out/${i}`, data: { v: '{{ event.value }}', note: 'a: b # c' } } },
    { log: { message: `rule ${i}` } },
  ],
}));
const CONFIG = {
  version: 1,
  services: { obd: { driver: 'sim-vehicle' } },
  reactor: { rules: RULES },
  tail: { x: 1 },
};

/** Services as a unit's config has them: mappings in mappings, lists among them. */
const SERVICES = {
  obd: {
    driver: 'elm327',
    settings: { port: '/dev/ttyUSB0', baud: 38400, protocol: 'auto' },
    restart: { delay: '2s' },
    workers: [{ name: 'fast', interval: '1s', messages: [{ handler: 'query', args: { pid: 'RPM' } }] }],
  },
  gnss: { driver: 'nmea', settings: { port: '/dev/ttyACM0' }, hooks: { returners: ['cloud'] } },
};

/** The config written as people do, in a few of the block styles YAML allows. */
const texts = [
  stringify(CONFIG),
  stringify({ unit: { id: 'van-7', data_dir: 'var' }, ...CONFIG, services: SERVICES }),
  stringify({ ...CONFIG, services: SERVICES }, { indentSeq: false, indent: 3 }),
  stringify(CONFIG, { indentSeq: false }),
  stringify(CONFIG, { indent: 4 }),
  `${stringify(CONFIG).replace(/\n {4}on:/, '\n    # a comment\n    on:')}# trailing\n`,
  // Kept trailing lines (`|+`), which belong to the scalar before the next item.
  stringify({ reactor: { rules: RULES.map((r) => ({ ...r, do: [{ log: 'keep\n\n\n' }] })) } }),
  // What people write by hand: an explicit start, flow collections over lines, an indentation
  // indicator, folded and quoted scalars over lines, comments at every column, empty values.
  `--- # a config
version: 1
reactor:
  rules:
  - name: a   # first
    on: [obd/speed,
      obd/rpm]
    when: {">": [{var: value},
        10]}
    do:
    - log: |2
          indented
        text
    - emit: { tag: x }
# between rules
  - name: b
    on: "vehicle/\
      engine"
    do:
      -
        log: >-
          folded
          text

      - emit:
          tag: 'it''s'
          data:
  -   name: c
      on: a/b
      do: [ { log: x } ]
other:
  - - nested
    - list
  - [flow, list]
`,
  // Windows line ends.
  stringify(CONFIG).replace(/\n/g, '\r\n'),
];

const SNIPPETS = [
  '- ',
  '  ',
  '    ',
  '\n',
  '\n  - ',
  '\n    - ',
  '# c',
  ' #',
  ': ',
  'x',
  '&a ',
  '*a',
  '<<: ',
  '|',
  '|+',
  '>-',
  '"',
  "'",
  '{',
  '}',
  '[',
  ']',
  ',',
  '---\n',
  '...\n',
  '%YAML 1.2\n',
  '\t',
  '${env:X}',
  '${env:Y}',
  '!!str ',
  '? ',
  'name: r9',
  'on: a/b',
  '\r\n',
  '__proto__: 1',
  'name: r0',
];

const edit = fc.record({
  at: fc.nat(),
  cut: fc.nat({ max: 60 }),
  put: fc.array(fc.oneof(fc.constantFrom(...SNIPPETS), fc.string({ maxLength: 4 })), { maxLength: 5 }),
  lines: fc.boolean(),
});

/** Text `text` with an edit applied: characters, or whole lines of it moved about. */
function edited(text: string, e: { at: number; cut: number; put: string[]; lines: boolean }): string {
  if (e.lines) {
    const lines = text.split('\n');
    const i = e.at % lines.length;
    const n = e.cut % 4;
    const from = lines.slice((e.at * 7) % lines.length, ((e.at * 7) % lines.length) + (e.put.length % 3));
    lines.splice(i, n, ...from);
    return lines.join('\n');
  }
  const at = e.at % (text.length + 1);
  return text.slice(0, at) + e.put.join('') + text.slice(Math.min(text.length, at + (e.cut % 8)));
}

describe('YAML splice (a changed file parsed where it changed)', () => {
  it('makes the tree a whole parse makes, or none, over random edits', () => {
    let spliced = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: texts.length - 1 }),
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        (t, edits) => {
          let text = texts[t]!;
          let before = kept(text)!;
          for (const e of edits) {
            text = edited(text, e);
            runs++;
            // A spliced tree is spliced into again: splices of splices must hold too.
            const next = splice(before, text);
            if (next) spliced++;
            before = next ?? kept(text) ?? before;
          }
        },
      ),
      { numRuns: 2000 },
    );
    // The fast path must be taken often enough for the comparison to mean something.
    assert.ok(spliced > runs / 10, `${spliced} of ${runs} edits spliced`);
  });

  it('parses only the items or entries an edit touches: a value changed, a rule added, removed, or appended', () => {
    const base = texts[0]!;
    const cases: [string, string][] = [
      ['a value', base.replace('out/3', 'out/33')],
      [
        'a line added',
        base.replace(
          '            message: rule 3\n',
          '            message: rule 3\n        - log: { message: more }\n',
        ),
      ],
      [
        'a rule added',
        base.replace(
          '    - name: r4\n',
          `${stringify([RULES[0]]).replace(/^/gm, '    ').trimEnd().replace('r0', 'new')}\n    - name: r4\n`,
        ),
      ],
      ['a rule removed', base.replace(/ {4}- name: r2\n(?: {6}.*\n)+/, '')],
      ['two rules changed', base.replace('out/1', 'out/11').replace('out/2', 'out/22')],
      [
        'a rule appended',
        base.replace('tail:', `    - name: last\n      on: a/b\n      do: [{ log: x }]\ntail:`),
      ],
    ];
    for (const [what, next] of cases) {
      assert.notEqual(next, base, what);
      assert.ok(check(kept(base)!, next), `${what}: spliced`);
    }
    // A mapping's entries are parsed alone too: a setting, a top-level value, a key added or removed.
    const entries: [string, string][] = [
      [
        'a service setting',
        base.replace('driver: sim-vehicle', 'driver: elm327\n    settings: { port: /dev/x }'),
      ],
      ['a top-level value', base.replace('version: 1', 'version: 2')],
      ['a key added', base.replace('tail:\n  x: 1', 'tail:\n  x: 1\n  y: [1, 2]')],
      ['a key removed', base.replace('tail:\n  x: 1\n', '')],
    ];
    for (const [what, next] of entries) {
      assert.notEqual(next, base, what);
      assert.ok(check(kept(base)!, next), `${what}: spliced`);
    }
    // A key the mapping has elsewhere: parsed whole, which reports it.
    assert.equal(check(kept(base)!, base.replace('tail:', 'version: 3\ntail:')), false);
    // A change on a line of its own that no entry holds (a document marker) is parsed whole.
    assert.equal(check(kept(base)!, `---\n${base}`), false);
    // A carriage return alone breaks a line (here before a document end marker): parsed whole.
    const crlf = texts.at(-1)!;
    assert.equal(
      check(kept(crlf)!, crlf.replace('"{{ event.value }}"\r\n', '"{{ event.value }}"\r...\n#')),
      false,
    );
    // Anchors make every part a whole-file matter.
    const anchored = `base: &b { on: a/b }\n${base}`;
    assert.equal(check(kept(anchored)!, anchored.replace('out/3', 'out/33')), false);
  });

  it('keeps to the nesting limit of a whole parse', () => {
    const nested = (depth: number, item: string) =>
      `${Array.from({ length: depth }, (_, i) => `${' '.repeat(i * 2)}k${i}:\n`).join('')}${' '.repeat(depth * 2)}- ${item}\n${' '.repeat(depth * 2)}- b\n`;
    // 59 mappings, the list and two more levels are within the limit; one mapping more is not.
    assert.equal(check(kept(nested(59, 'a'))!, nested(59, '[[x]]')), true);
    assert.equal(check(kept(nested(60, 'a'))!, nested(60, '[[x]]')), false);
    const issues: ConfigIssue[] = [];
    parseYaml('f.yaml', nested(60, '[[x]]'), {}, issues);
    assert.match(issues[0]?.message ?? '', /maxDepth/);
  });

  /** A config's problems as a load reports them, with a memo or without. */
  function problems(file: string, memo?: ConfigMemo): string[] {
    try {
      loadConfigSync(file, { X: 'x' }, { memo });
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.issues.map(formatIssue);
    }
    return [];
  }

  /** Three lines more in rule 1 (one naming `note`), then rule 1 renamed to rule 5's name. */
  function edits(note: string) {
    const dir = tmpDir();
    const file = path.join(dir, 'pitcrew.yaml');
    const text = stringify({ version: 1, reactor: { rules: RULES.map((r) => ({ ...r, when: undefined })) } });
    const longer = text.replace(
      '            message: rule 1\n',
      `            message: rule 1\n        - log: { message: ${note} }\n        - log: { message: b }\n        - log: { message: c }\n`,
    );
    const renamed = longer.replace('- name: r1\n', '- name: r5\n');
    assert.equal(longer.split('\n').length, text.split('\n').length + 3);
    assert.notEqual(renamed, longer);
    writeFileSync(file, text);
    return { file, steps: [longer, renamed] };
  }

  for (const [what, note] of [
    ['after lines were added above it', 'a'],
    [
      'after lines were added above it by a file with an env reference (whose tree is not kept)',
      '"${env:X}"',
    ],
  ] as const)
    it(`a load through a memo reports an unchanged rule at its line ${what}`, () => {
      const { file, steps } = edits(note);
      const memo = new ConfigMemo();
      assert.deepEqual(problems(file, memo), []);
      writeFileSync(file, steps[0]!);
      assert.deepEqual(problems(file, memo), []);
      writeFileSync(file, steps[1]!);
      const whole = problems(file);
      const lines = steps[1]!.split('\n');
      const r5 = lines.flatMap((l, i) => (l.includes('name: r5') ? [i + 1] : []));
      assert.equal(r5.length, 2);
      // The second r5, rule 5, which the first splice moved, is named at its line.
      assert.ok(
        whole.some((p) => p.includes(`:${r5[1]}:`) && p.includes('defined twice')),
        whole.join('\n'),
      );
      assert.deepEqual(problems(file, memo), whole);
    });
});
