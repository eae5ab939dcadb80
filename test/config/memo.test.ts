import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../agent/config/errors.js';
import { loadConfigSync } from '../../agent/config/load.js';
import { ConfigMemo } from '../../agent/config/memo.js';
import { tmpDir, writeFiles } from '../helpers/tmp.js';

const MAIN = `version: 1
services:
  obd:
    driver: sim-vehicle
    settings: {}
    workers:
      - { name: fast, interval: 1s, messages: [{ handler: vin }] }
include: rules/*.yaml
`;
const rule = (name: string, extra = '') => `  - name: ${name}
    on: vehicle/engine/running
    do:
      - worker: { service: obd, name: fast, action: pause }
${extra}`;
const rulesFile = (...rules: string[]) => `reactor:\n  rules:\n${rules.join('')}`;

function setup(files: Record<string, string>) {
  const dir = tmpDir();
  writeFiles(dir, { 'main.yaml': MAIN, ...files });
  const file = path.join(dir, 'main.yaml');
  return { dir, file, write: (f: string, text: string) => writeFileSync(path.join(dir, f), text) };
}

function errorsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map((i) => `${path.basename(i.file)}:${i.line}:${i.column} ${i.path}: ${i.message}`);
  }
  assert.fail('the config loaded');
}

describe('config memo (a reload parses, validates and checks only what changed)', () => {
  it('keeps each rule that says what it said as it was, and validates a changed one anew', () => {
    const { file, write } = setup({
      'rules/a.yaml': rulesFile(rule('a1'), rule('a2')),
      'rules/b.yaml': rulesFile(rule('b1')),
    });
    const memo = new ConfigMemo();
    const first = loadConfigSync(file, {}, { memo }).config.reactor.rules;
    write('rules/b.yaml', rulesFile(rule('b1'), rule('b2')));
    const second = loadConfigSync(file, {}, { memo }).config.reactor.rules;
    assert.deepEqual(
      second.map((r) => r.name),
      ['a1', 'a2', 'b1', 'b2'],
    );
    assert.equal(second[0], first[0], 'a1 is the object the load before made');
    assert.equal(second[1], first[1]);
    assert.equal(second[2], first[2], 'b1 says what it said: taken as it was, though b.yaml changed');
    // A changed rule is validated anew, in a file parsed again.
    write('rules/b.yaml', rulesFile(rule('b1', '    throttle: 5s\n'), rule('b2')));
    const third = loadConfigSync(file, {}, { memo }).config.reactor.rules;
    assert.notEqual(third[2], second[2]);
    assert.equal(third[2]!.throttle, 5000);
    assert.equal(third[3], second[3]);
    assert.ok(Object.isFrozen(second[0]) && Object.isFrozen(second[0]!.do[0]), 'shared rules are frozen');
    // Without a memo every load makes its own.
    assert.notEqual(loadConfigSync(file, {}).config.reactor.rules[0], second[0]);
  });

  it('checks a kept rule again when what it refers to changed in another file', () => {
    const { file, write } = setup({ 'rules/a.yaml': rulesFile(rule('a1')) });
    const memo = new ConfigMemo();
    loadConfigSync(file, {}, { memo });
    write('main.yaml', MAIN.replace('obd:', 'gps:'));
    assert.deepEqual(
      errorsOf(() => loadConfigSync(file, {}, { memo })),
      ["a.yaml:6:28 reactor.rules[0].do[0].worker.service: unknown service 'obd'"],
    );
    write('main.yaml', MAIN);
    assert.equal(loadConfigSync(file, {}, { memo }).config.reactor.rules[0]!.name, 'a1');
  });

  it("keeps every rule's check when only a service's setting changed, and checks again when its workers did", () => {
    const { file, write } = setup({ 'rules/a.yaml': rulesFile(rule('a1'), rule('a2')) });
    const memo = new ConfigMemo();
    loadConfigSync(file, {}, { memo });
    const before = [...memo.checks.values()];
    assert.equal(before.length, 2);
    write('main.yaml', MAIN.replace('settings: {}', 'settings: { seed: 7 }'));
    assert.equal(
      (loadConfigSync(file, {}, { memo }).config.services.obd!.settings as { seed: number }).seed,
      7,
    );
    const after = [...memo.checks.values()];
    assert.equal(after.length, 2);
    for (const [i, c] of after.entries()) assert.equal(c, before[i], 'taken as it was, not checked again');
    // The worker the rules pause, renamed: they are checked again, and say so where they are.
    write('main.yaml', MAIN.replace('name: fast', 'name: quick'));
    const errs = errorsOf(() => loadConfigSync(file, {}, { memo }));
    assert.deepEqual(
      errs,
      errorsOf(() => loadConfigSync(file, {})),
    );
    assert.match(errs[0]!, /a\.yaml:6:\d+ reactor\.rules\[0\]\.do\[0\]\.worker.*has no worker 'fast'/);
  });

  it("under a bundle's overlay: the overlay's rules replace the file's, and a change of the file reads the overlay no more", () => {
    const { dir, file, write } = setup({ 'rules/a.yaml': rulesFile(rule('a1')) });
    const overlay = path.join(dir, 'bundle-1', 'overlay.json');
    writeFiles(dir, {
      'bundle-1/overlay.json': JSON.stringify(
        {
          rules: [{ name: 'b1', on: 'x', do: [{ emit: { tag: 'y' } }] }],
          services: { gps: { driver: 'sim-vehicle', settings: { seed: 3 } } },
        },
        null,
        2,
      ),
    });
    const memo = new ConfigMemo();
    const first = loadConfigSync(file, {}, { memo, overlay });
    assert.deepEqual(
      first.config.reactor.rules.map((r) => r.name),
      ['b1'],
    );
    assert.deepEqual(Object.keys(first.config.services).sort(), ['gps', 'obd']);
    assert.ok(first.files.includes(overlay));
    const tree = memo.earlier(overlay)?.node;
    assert.ok(tree, 'the overlay is kept by the memo');
    write('main.yaml', MAIN.replace('settings: {}', 'settings: { seed: 7 }'));
    const second = loadConfigSync(file, {}, { memo, overlay });
    assert.equal(memo.earlier(overlay)?.node, tree, 'the overlay as it was: not parsed again');
    assert.equal(second.config.reactor.rules[0], first.config.reactor.rules[0], 'its rule taken as it was');
    // A problem in the bundle's part is placed in the overlay, where it is.
    writeFiles(dir, {
      'bundle-1/overlay.json': '{\n  "rules": [\n    { "name": "b1", "on": "x", "do": [] }\n  ]\n}\n',
    });
    const errs = errorsOf(() => loadConfigSync(file, {}, { memo, overlay }));
    assert.deepEqual(
      errs,
      errorsOf(() => loadConfigSync(file, {}, { overlay })),
    );
    assert.match(errs[0]!, /^overlay\.json:3:\d+ reactor\.rules\[0\]\.do/);
  });

  it("names a kept rule's error where it now is, when rules before it came and went", () => {
    const bad = rule('a1', '    when: { "nope": [1] }\n');
    const { file, write } = setup({ 'rules/a.yaml': rulesFile(rule('a0')), 'rules/b.yaml': rulesFile(bad) });
    const memo = new ConfigMemo();
    const before = errorsOf(() => loadConfigSync(file, {}, { memo }));
    assert.equal(before.length, 1);
    assert.match(before[0]!, /^b\.yaml:7:13 reactor\.rules\[1\]\.when\.nope: unknown JsonLogic operator/);
    write('rules/a.yaml', rulesFile(rule('a0'), rule('a00'), rule('a000')));
    const after = errorsOf(() => loadConfigSync(file, {}, { memo }));
    assert.deepEqual(after, [before[0]!.replace('rules[1]', 'rules[3]')]);
    // The same, loaded without a memo.
    assert.deepEqual(
      errorsOf(() => loadConfigSync(file, {})),
      after,
    );
  });

  it('reads a file with ${env:…} again at every load: the variable may have changed', () => {
    const { file } = setup({
      'rules/a.yaml': rulesFile(rule('a1', '    when: { ">": [{ var: event.data.rpm }, "${env:LIMIT}"] }\n')),
    });
    const memo = new ConfigMemo();
    const limit = (env: Record<string, string>) =>
      JSON.stringify(loadConfigSync(file, env, { memo }).config.reactor.rules[0]!.when);
    assert.match(limit({ LIMIT: '3000' }), /3000/);
    assert.match(limit({ LIMIT: '4000' }), /4000/);
  });

  it("a file that gains ${env:…}: a later change's errors are where a load without the memo puts them", () => {
    const plain = rulesFile(rule('a1'), rule('a2'), rule('a3'));
    const { file, write } = setup({ 'rules/a.yaml': plain });
    const memo = new ConfigMemo();
    loadConfigSync(file, {}, { memo });
    // A rule near the top gains two lines, one with a variable: every rule below it moves.
    const withEnv = rulesFile(
      rule('a1', '    when: { ">": [{ var: event.data.rpm }, "${env:LIMIT}"] }\n    throttle: 1s\n'),
      rule('a2'),
      rule('a3'),
    );
    write('rules/a.yaml', withEnv);
    loadConfigSync(file, { LIMIT: '3000' }, { memo });
    // Then a rule below it goes wrong: its error is where it now is, as a load without the memo says.
    write('rules/a.yaml', withEnv.replace('name: a3', 'name: a3\n    when: { "nope": [1] }'));
    const fresh = errorsOf(() => loadConfigSync(file, { LIMIT: '3000' }));
    assert.match(fresh[0]!, /^a\.yaml:14:13 reactor\.rules\[2\]\.when\.nope/);
    assert.deepEqual(
      errorsOf(() => loadConfigSync(file, { LIMIT: '3000' }, { memo })),
      fresh,
    );
  });

  it('tells .inf and .nan from null: a rule that changes between them is validated anew', () => {
    const when = (v: string) => rule('a1', `    when: { ">": [{ var: event.data.rpm }, ${v}] }\n`);
    const { file, write } = setup({ 'rules/a.yaml': rulesFile(when('.inf')) });
    const memo = new ConfigMemo();
    const limit = () =>
      (loadConfigSync(file, {}, { memo }).config.reactor.rules[0]!.when as { '>': unknown[] })['>'][1];
    assert.equal(limit(), Number.POSITIVE_INFINITY);
    write('rules/a.yaml', rulesFile(when('null')));
    assert.equal(limit(), null);
    write('rules/a.yaml', rulesFile(when('.nan')));
    assert.ok(Number.isNaN(limit()));
  });

  it('a duplicate rule name across a kept and a changed file is still found', () => {
    const { file, write } = setup({
      'rules/a.yaml': rulesFile(rule('a1')),
      'rules/b.yaml': rulesFile(rule('b1')),
    });
    const memo = new ConfigMemo();
    loadConfigSync(file, {}, { memo });
    write('rules/b.yaml', rulesFile(rule('a1')));
    assert.deepEqual(
      errorsOf(() => loadConfigSync(file, {}, { memo })),
      errorsOf(() => loadConfigSync(file, {})),
    );
    assert.match(errorsOf(() => loadConfigSync(file, {}, { memo }))[0]!, /b\.yaml:3:\d+ .*defined twice/);
  });
});
