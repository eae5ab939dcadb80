import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigSync } from '../../agent/config/load.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { configIssues, type Issue } from '../helpers/config-issues.js';
import { tmpDir, writeFiles } from '../helpers/tmp.js';

/** Loads `main.yaml` from `files` and returns its issues (positions relative to the directory). */
function issues(files: Record<string, string | Buffer>, dir = tmpDir()): Issue[] {
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), body);
  }
  return configIssues(dir);
}

const worker = (w: string) => `version: 1
services:
  obd:
    driver: sim-vehicle
    settings: {}
    workers:
      - { name: w, ${w}, messages: [{ handler: vin }] }
`;

describe('config: schedules and timetables', () => {
  it('a cron step outside its field is an error', () => {
    assert.deepEqual(issues({ 'main.yaml': worker('cron: "*/70 * * * * *"') }), [
      [
        'main.yaml',
        7,
        26,
        'services.obd.workers[0].cron',
        "bad cron expression '*/70 * * * * *' (step /70 in the second field is outside 1..59)",
      ],
    ]);
  });

  it('an interval of 0 or under 10 ms is an error', () => {
    for (const interval of ['0', '5ms']) {
      assert.deepEqual(issues({ 'main.yaml': worker(`interval: ${interval}`) }), [
        ['main.yaml', 7, 30, 'services.obd.workers[0].interval', 'an interval must be at least 10ms'],
      ]);
    }
  });

  it('a worker with loop: N needs no schedule; one that loops forever does', () => {
    assert.deepEqual(issues({ 'main.yaml': worker('loop: 1') }), []);
    assert.deepEqual(issues({ 'main.yaml': worker('delay: 1s') }), [
      [
        'main.yaml',
        7,
        9,
        'services.obd.workers[0]',
        'a worker that loops forever (loop: -1) needs an interval or a cron',
      ],
    ]);
  });

  it('a condition written as text is an error with its position and a hint, not always true', () => {
    const yaml = `version: 1
reactor:
  rules:
    - name: r
      on: vehicle/obd/speed
      when: "$event.value > 3"
      do: [{ if: { when: 1, then: [{ stop: true }] } }]
`;
    assert.deepEqual(issues({ 'main.yaml': yaml }), [
      [
        'main.yaml',
        6,
        13,
        'reactor.rules[0].when',
        'a condition is JsonLogic, not text: write {">": [{"var": "event.data.value"}, 3]} rather than "$event.value > 3" (try it with pitcrew logic)',
      ],
      [
        'main.yaml',
        7,
        26,
        'reactor.rules[0].do[0].if.when',
        'a condition is a JsonLogic object such as {"==": [{"var": "event.data.on"}, true]}, or true/false',
      ],
    ]);
  });

  it('a return whose data can never be a result is an error; forward needs a cloud section', () => {
    const yaml = `version: 1
reactor:
  rules:
    - name: r
      on: a
      do:
        - return: { returner: cloud, data: { tag: "{{ event.tag }}" } }
        - return: { returner: cloud, data: "{{ event.data }}" }
        - forward: {}
`;
    assert.deepEqual(issues({ 'main.yaml': yaml }), [
      [
        'main.yaml',
        7,
        44,
        'reactor.rules[0].do[0].return.data',
        'a returner takes a result {type, value, …}: data has no type; to send an event to the cloud, use forward',
      ],
      [
        'main.yaml',
        9,
        20,
        'reactor.rules[0].do[2].forward',
        'forward needs a cloud section (cloud.mqtt.url) to send through',
      ],
    ]);
  });

  it('timetables inside conditions are checked like update timetables', () => {
    const rule = (tt: string) =>
      `version: 1\nreactor:\n  rules:\n    - name: r\n      on: a\n      when: { in_timetable: ${tt} }\n      do: [{ stop: true }]\n`;
    assert.deepEqual(
      issues({ 'main.yaml': rule('[[{ day_of_week: 8, time_slots: [{ start: "02:00", end: "04:00" }] }]]') }),
      [
        [
          'main.yaml',
          6,
          33,
          'reactor.rules[0].when.in_timetable[0][0].day_of_week',
          'timetable: days run 1 (Monday) to 7 (Sunday)',
        ],
      ],
    );
    assert.deepEqual(
      issues({ 'main.yaml': rule('[[{ day_of_week: 1, time_slots: [{ start: "05:00", end: "04:00" }] }]]') }),
      [
        [
          'main.yaml',
          6,
          62,
          'reactor.rules[0].when.in_timetable[0][0].time_slots[0]',
          'timetable: start must be before end',
        ],
      ],
    );
    // Entries written in place, as a timetable is written under `updates`, are the same timetable.
    assert.deepEqual(
      issues({ 'main.yaml': rule('[{ day_of_week: 1, time_slots: [{ start: "02:00", end: "04:00" }] }]') }),
      [],
    );
    assert.deepEqual(
      issues({
        'main.yaml': rule(
          '[{ day_of_week: 1, time_slots: [{ start: "02:00", end: "04:00" }] }, { day_of_week: 9, time_slots: [{ start: "02:00", end: "04:00" }] }]',
        ),
      }),
      [
        [
          'main.yaml',
          6,
          100,
          'reactor.rules[0].when.in_timetable[1].day_of_week',
          'timetable: days run 1 (Monday) to 7 (Sunday)',
        ],
      ],
    );
    assert.deepEqual(issues({ 'main.yaml': rule('["mondays"]') }), [
      [
        'main.yaml',
        6,
        30,
        'reactor.rules[0].when.in_timetable[0]',
        'in_timetable takes a list of {day_of_week, time_slots: [{start, end}]} entries',
      ],
    ]);
  });
});

describe('config: files', () => {
  it('an include outside the config tree is refused without reading it', () => {
    const dir = tmpDir();
    const outside = tmpDir();
    writeFileSync(path.join(outside, 'secret.yaml'), 'root: "x:0:0:secret-hash"\n');
    symlinkSync(path.join(outside, 'secret.yaml'), path.join(dir, 'linked.yaml'));
    const got = issues(
      { 'main.yaml': `version: 1\ninclude: [${path.join(outside, 'secret.yaml')}, linked.yaml]\n` },
      dir,
    );
    assert.equal(got.length, 2);
    for (const [, , , key, message] of got) {
      assert.equal(key, 'include');
      assert.match(message, /is outside the config's directory tree <dir>; includes stay inside it/);
      assert.doesNotMatch(message, /secret-hash/);
    }
  });

  it('an include glob that climbs out of the tree is refused before it searches, through the installed command', () => {
    // A segment such as `x(y` gave the glob no depth: it walked the whole disk before any match
    // could be refused, and `validate` (or a start, or a reload) hung.
    const dir = tmpDir();
    writeFiles(dir, {
      'main.yaml': "version: 1\ninclude: ['../../x(y/*.yaml', 'rules(old)/*.yaml']\n",
      'rules(old)/a.yaml': 'reactor: { rules: [{ name: r, on: x, do: [{ emit: { tag: y } }] }] }\n',
    });
    const r = spawnSync(path.join(ROOT, 'bin/pitcrew.js'), ['validate', '-c', path.join(dir, 'main.yaml')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.signal, null, 'it ended by itself');
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /main\.yaml:2:\d+ include: \.\.\/\.\.\/x\(y\/\*\.yaml looks in \/, outside the config's directory tree/,
    );
    assert.doesNotMatch(r.stderr, /rules\(old\)/, 'a glob inside the tree is searched as before');
  });

  it('a config or include that is a device or over 4 MB is refused before it is read', () => {
    const dir = tmpDir();
    symlinkSync('/dev/zero', path.join(dir, 'zero.yaml'));
    writeFileSync(path.join(dir, 'huge.yaml'), Buffer.alloc(5 * 1024 * 1024, 0x20));
    const got = issues({ 'main.yaml': 'version: 1\ninclude: [zero.yaml, huge.yaml]\n' }, dir);
    assert.deepEqual(
      got.map(([, line, , key, message]) => [line, key, message.replace(/\S*(zero|huge)\.yaml/, '$1')]),
      [
        [
          2,
          'include',
          "included file zero is outside the config's directory tree <dir>; includes stay inside it (a .pitcrew-root file marks a wider tree's top)",
        ],
        [2, 'include', 'cannot read huge: larger than 4194304 bytes'],
      ],
    );
    const before = process.memoryUsage().rss;
    const r = runCli(['validate', '-c', path.join(dir, 'zero.yaml')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not a regular file/);
    assert.ok(process.memoryUsage().rss - before < 100 * 1024 ** 2);
  });

  it('a .pitcrew-root file above the config widens its tree to there', () => {
    const dir = tmpDir();
    writeFiles(dir, {
      '.pitcrew-root': '',
      'rules/r.yaml': 'reactor:\n  rules:\n    - { name: r, on: a, do: [{ stop: true }] }\n',
      'config/main.yaml': 'version: 1\ninclude: [../rules/*.yaml]\n',
    });
    assert.deepEqual(loadConfigSync(path.join(dir, 'config/main.yaml'), {}).config.reactor.rules.length, 1);
  });

  it('an included file that is not a map is an error', () => {
    assert.deepEqual(
      issues({ 'main.yaml': 'version: 1\ninclude: [list.yaml]\n', 'list.yaml': '- a\n- b\n' }),
      [['list.yaml', 1, 1, '', 'an included file must be a map of config sections']],
    );
  });

  it('a key written __proto__ is refused wherever it is, at its position, not taken as a prototype or dropped', () => {
    const text = `version: 1
unit:
  id: u
  __proto__: { data_dir: elsewhere }
services:
  __proto__:
    driver: sim-vehicle
reactor:
  rules:
    - name: r
      on: x
      do: [{ emit: { tag: y, data: { __proto__: { a: 1 } } } }]
`;
    assert.deepEqual(issues({ 'main.yaml': text }), [
      ['main.yaml', 4, 3, 'unit.__proto__', "'__proto__' cannot be a key"],
      ['main.yaml', 6, 3, 'services.__proto__', "'__proto__' cannot be a key"],
      ['main.yaml', 12, 38, 'reactor.rules[0].do[0].emit.data.__proto__', "'__proto__' cannot be a key"],
    ]);
  });

  it('invalid UTF-8 is an error at its position', () => {
    const bad = Buffer.concat([
      Buffer.from('version: 1\nunit:\n  id: ab'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('\n'),
    ]);
    assert.deepEqual(issues({ 'main.yaml': bad }), [
      ['main.yaml', 3, 9, '', 'not valid UTF-8 text (save the file as UTF-8)'],
    ]);
  });

  it('every example validates on a fresh machine, with no environment set', () => {
    const env = { PATH: process.env.PATH };
    for (const example of ['fleet-unit', 'obd-gnss', 'can-bus']) {
      const r = runCli(['validate', '-c', `config/examples/${example}.yaml`], { env, clearEnv: true });
      assert.equal(r.code, 0, r.stderr);
    }
  });

  it("validate checks a module service's settings against the schema the module exports", () => {
    const dir = tmpDir();
    writeFiles(dir, {
      'counter.mjs':
        "export const settings = { safeParse: (v) => typeof v.step === 'number' ? { success: true, data: v } : { success: false, error: { message: 'bad', issues: [{ path: ['step'], message: 'expected a number' }] } } };\nexport function createService() { return { handlers: {} }; }\n",
      'main.yaml':
        'version: 1\nservices:\n  c:\n    driver: module\n    settings: { module: ./counter.mjs, step: "three" }\n',
    });
    const r = runCli(['validate', '-c', path.join(dir, 'main.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /main\.yaml:5:46 services\.c\.settings\.step: expected a number/);
  });
});
