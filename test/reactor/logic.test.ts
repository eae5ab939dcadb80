import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import jsonLogic from 'json-logic-js';
import { compile, compileLogic, compileTest } from '../../agent/reactor/logic.js';
import { FIXTURES } from '../helpers/agent.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(path.join(FIXTURES, 'jsonlogic', name), 'utf8')) as unknown[];

// Every suite in both modes: generated code, and the closures that run where code generation is off.
for (const codegen of [true, false]) {
  const mode = codegen ? 'generated code' : 'closures';
  describe(`JsonLogic (${mode}): the official suite (tests.json)`, () => {
    const cases = fixture('tests.json').filter((c): c is [unknown, unknown, unknown] => Array.isArray(c));
    it('has all 277 cases', () => assert.equal(cases.length, 277));
    for (const [i, [rule, data, expected]] of cases.entries()) {
      it(`#${i + 1} ${JSON.stringify(rule).slice(0, 90)}`, () => {
        assert.deepStrictEqual(compileLogic(rule, { codegen })(data), expected);
      });
    }
  });

  describe(`JsonLogic (${mode}): compat-tables compatible.json`, () => {
    const cases = fixture('compatible.json').filter(
      (c): c is { description: string; rule: unknown; data: unknown; result: unknown } =>
        typeof c === 'object',
    );
    for (const c of cases) {
      it(c.description, () =>
        assert.deepStrictEqual(compileLogic(c.rule, { codegen })(c.data ?? null), c.result),
      );
    }
  });
}

/** Random rules over the standard operators, with `var` paths into random data. */
const ruleArb = fc.letrec((tie) => {
  const leaf = fc.oneof(
    fc.integer({ min: -5, max: 5 }),
    fc.double({ noNaN: true, min: -10, max: 10 }),
    fc.constantFrom('a', '1', '', 'x.y', 'abc', '0'),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom('a', 'b', 'c', 'a.b', 'list', 'n', 's', '').map((p) => ({ var: p })),
    fc.array(fc.constantFrom(1, 0, 'a', '', null, true), { maxLength: 3 }),
    fc
      .tuple(fc.constantFrom('a', 'zz', 'a.b'), fc.integer({ min: 0, max: 3 }))
      .map(([p, d]) => ({ var: [p, d] })),
  );
  const ops = [
    '==',
    '===',
    '!=',
    '!==',
    '!',
    '!!',
    'or',
    'and',
    '<',
    '<=',
    '>',
    '>=',
    'max',
    'min',
    '+',
    '-',
    '*',
    '/',
    '%',
    'in',
    'cat',
    'substr',
    'merge',
    'if',
    'missing',
    'missing_some',
  ];
  return {
    leaf,
    rule: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc
        .tuple(fc.constantFrom(...ops), fc.array(tie('rule'), { minLength: 0, maxLength: 3 }))
        .map(([op, args]) => ({ [op]: args })),
      fc
        .tuple(fc.constantFrom('map', 'filter', 'all', 'none', 'some'), tie('rule'))
        .map(([op, body]) => ({ [op]: [{ var: 'list' }, body] })),
      tie('rule').map((body) => ({ reduce: [{ var: 'list' }, { '+': [{ var: 'accumulator' }, body] }, 0] })),
    ),
  };
}).rule;

const dataArb = fc.record({
  a: fc.oneof(fc.integer(), fc.string({ maxLength: 3 }), fc.constant(null), fc.record({ b: fc.integer() })),
  b: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.boolean(), fc.constant('')),
  c: fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 3 }),
  list: fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.string({ maxLength: 2 })), { maxLength: 4 }),
  n: fc.double({ noNaN: false }),
  s: fc.string({ maxLength: 4 }),
});

function outcome(f: () => unknown): { value: unknown } | { threw: true } {
  try {
    return { value: f() };
  } catch {
    return { threw: true };
  }
}

describe('JsonLogic: differential against json-logic-js', () => {
  for (const codegen of [true, false])
    it(`gives the same result (or the same failure) on random rules and data (${codegen ? 'generated code' : 'closures'})`, () => {
      fc.assert(
        fc.property(ruleArb, dataArb, (rule, data) => {
          const theirs = outcome(() => jsonLogic.apply(rule as never, data));
          const ours = outcome(() => compileLogic(rule, { codegen })(data));
          assert.deepStrictEqual(ours, theirs, JSON.stringify(rule));
        }),
        { numRuns: Number(process.env.PITCREW_FUZZ_RUNS ?? 3000) },
      );
    });

  for (const codegen of [true, false])
    it(`as a condition, holds where json-logic-js's value is truthy (${codegen ? 'generated code' : 'closures'})`, () => {
      fc.assert(
        fc.property(ruleArb, dataArb, (rule, data) => {
          const theirs = outcome(() => jsonLogic.truthy(jsonLogic.apply(rule as never, data)));
          const ours = outcome(() => compileTest(rule, { codegen })(data));
          assert.deepStrictEqual(ours, theirs, JSON.stringify(rule));
        }),
        { numRuns: Number(process.env.PITCREW_FUZZ_RUNS ?? 3000) / 3 },
      );
    });

  it('conditions of one shape, generated from one source, each keep their own values', () => {
    const shape = (k: number, path: string, set: string[]) => ({
      and: [{ '>': [{ var: path }, k] }, { in: [{ var: 'code' }, set] }],
    });
    const a = compileTest(shape(10, 'a.v', ['x']));
    const b = compileTest(shape(50, 'b.v', ['y']));
    const data = { a: { v: 30 }, b: { v: 30 }, code: 'x' };
    assert.equal(a.toString(), b.toString());
    assert.deepStrictEqual([a(data), b(data), b({ ...data, b: { v: 60 }, code: 'y' })], [true, false, true]);
  });

  it('where code generation is disallowed, the closures run and give the same results', () => {
    const script = `import { compileLogic } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../agent/reactor/logic.ts'))};
const f = compileLogic({ and: [{ '>': [{ var: 'v' }, 3] }, { in: [{ var: 't' }, ['x']] }] });
console.log(JSON.stringify([f.name, f({ v: 4, t: 'x' }), f({ v: 2, t: 'x' })]));`;
    const out = execFileSync(
      process.execPath,
      ['--disallow-code-generation-from-strings', '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    const [name, yes, no] = JSON.parse(out) as [string, boolean, boolean];
    assert.notEqual(name, 'generated');
    assert.deepEqual([yes, no], [true, false]);
  });

  it('generated code holds no value of the rule: the same source for the same shape', () => {
    const a = compileLogic({
      and: [{ '>': [{ var: 'event.data.value' }, 3] }, { in: [{ var: 'tag' }, ['x', 'y']] }],
    });
    const b = compileLogic({
      and: [{ '>': [{ var: 'a.b.c' }, '"); process.exit(1); ("'] }, { in: [{ var: 'z' }, ['1', 'q']] }],
    });
    assert.match(a.toString(), /^function generated/);
    assert.equal(a.toString(), b.toString());
    assert.doesNotMatch(b.toString(), /process|event|value/);
  });

  it('list operators, missing and run-time paths are generated too, not closures called with the data', () => {
    for (const logic of [
      { all: [{ var: 'items' }, { '>=': [{ var: 'qty' }, 1] }] },
      { some: [{ var: 'xs' }, { '==': [{ var: '' }, 1] }] },
      { none: [{ var: 'xs' }, { '<': [{ var: '' }, 0] }] },
      { filter: [{ var: 'xs' }, { '>': [{ var: '' }, 1] }] },
      { map: [{ var: 'xs' }, { '*': [{ var: '' }, 2] }] },
      { reduce: [{ var: 'xs' }, { '+': [{ var: 'current' }, { var: 'accumulator' }] }, 0] },
      { missing: ['a', 'b.c'] },
      { missing_some: [1, ['a', 'b']] },
    ]) {
      const source = compileLogic(logic).toString();
      assert.match(source, /^function generated/, JSON.stringify(logic));
      assert.doesNotMatch(source, /\bb\d+\(d\)/, JSON.stringify(logic));
    }
    // A path known only at run time reads the data through the one lookup, its segments split once.
    const f = compileLogic({ var: [{ if: [{ var: 'hot' }, 'pie.filling', 'pie.eta'] }] });
    assert.deepEqual(
      [f({ hot: true, pie: { filling: 'apple' } }), f({ hot: false, pie: { eta: 5 } })],
      ['apple', 5],
    );
  });

  it('as json-logic-js: missing evaluates the arguments after a list of keys; a between with an undefined third compares two', () => {
    const data = { a: '', n: 0 };
    for (const rule of [
      { missing: [[], { '*': [] }] },
      { missing: [['zz', 'a'], { var: 'n' }] },
      { missing_some: [1, [['zz'], { '*': [] }]] },
      { missing_some: [0, [], { missing_some: [] }] },
      // A between whose third argument comes out undefined compares the first two only.
      { '<': [{ var: 'n' }, { missing: ['a'] }, { and: [] }] },
      { '<=': [{ var: 'n' }, { var: 'n' }, { or: [] }] },
    ]) {
      const theirs = outcome(() => jsonLogic.apply(rule as never, data));
      for (const codegen of [true, false])
        assert.deepStrictEqual(
          outcome(() => compileLogic(rule, { codegen })(data)),
          theirs,
          JSON.stringify(rule),
        );
    }
  });

  it('rules of one shape share one generated function, each with its own values', () => {
    // Counted where the generator makes its functions: one per shape, however many rules have it.
    const real = globalThis.Function;
    let made = 0;
    globalThis.Function = new Proxy(real, {
      construct(target, args) {
        made++;
        return Reflect.construct(target, args);
      },
    });
    let conditions: ((d: unknown) => unknown)[];
    try {
      // A shape no other test compiles, so its function is made here.
      conditions = Array.from({ length: 50 }, (_, k) =>
        compileTest({ and: [{ '>': [{ var: `shared.s${k}` }, k] }, { '!=': [{ var: 'mode' }, `m${k}`] }] }),
      );
    } finally {
      globalThis.Function = real;
    }
    assert.equal(made, 1);
    for (let k = 0; k < 50; k++) {
      const shared = { [`s${k}`]: k + 1 };
      assert.equal(conditions[k]!({ shared, mode: 'x' }), true, `rule ${k}`);
      assert.equal(conditions[k]!({ shared, mode: `m${k}` }), false, `rule ${k}`);
      assert.equal(conditions[k]!({ shared: { [`s${k}`]: k }, mode: 'x' }), false, `rule ${k}`);
    }
  });

  it('a list of constants is worked out once and handed out frozen', () => {
    const f = compileLogic({ merge: [[1], [2, 3]] });
    const [a, b] = [f(null), f(null)] as [number[], number[]];
    assert.deepEqual(a, [1, 2, 3]);
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
    // The closures, where code generation is off, make a new list each time.
    const g = compileLogic({ merge: [[1], [2, 3]] }, { codegen: false });
    assert.notEqual(g(null), g(null));
  });
});

describe('JsonLogic: compile-time errors and extensions', () => {
  it('rejects unknown operators when compiling, even where evaluation would not reach them', () => {
    assert.throws(() => compile({ if: [true, 1, { teleport: [] }] }), { code: 'PITCREW_LOGIC_INVALID' });
    assert.throws(() => compile({ constructor: [] }), /Unrecognized operation constructor/);
  });

  it('since: seconds since a signal last changed', () => {
    const f = compile(
      { since: 'signals.obd.speed' },
      { changedAt: (p) => (p === 'signals.obd.speed' ? 1000 : undefined) },
    );
    assert.equal(f({ now: 31_000 }), 30);
    assert.equal(compile({ since: 'signals.obd.nope' }, { changedAt: () => undefined })({ now: 0 }), null);
  });

  it('distance: metres between two points, as four numbers or two {lat, lon}', () => {
    const oslo = { lat: 59.9139, lon: 10.7522 };
    const bergen = { lat: 60.3913, lon: 5.3221 };
    const d = compile({ distance: [{ var: 'a' }, { var: 'b' }] })({ a: oslo, b: bergen }) as number;
    assert.ok(Math.abs(d - 305_000) < 3000, String(d));
    assert.equal(compile({ distance: [59.9139, 10.7522, 59.9139, 10.7522] })({}), 0);
    assert.equal(compile({ distance: [1, 2, 3] })({}), null);
  });

  for (const codegen of [true, false])
    it(`distance: the same answer for every shape of its arguments (${codegen ? 'generated code' : 'closures'})`, () => {
      const oslo = { lat: 59.9139, lon: 10.7522 };
      const bergen = { lat: 60.3913, lon: 5.3221 };
      const two = compileLogic({ distance: [{ var: 'a' }, { var: 'b' }] }, { codegen });
      const four = compileLogic(
        { distance: [{ var: 'w' }, { var: 'x' }, { var: 'y' }, { var: 'z' }] },
        { codegen },
      );
      const metres = two({ a: oslo, b: bergen }) as number;
      assert.ok(Math.abs(metres - 305_000) < 3000, String(metres));
      assert.equal(two({ a: [oslo.lat, oslo.lon], b: [bergen.lat, bergen.lon] }), metres, 'points as lists');
      assert.equal(two({ a: oslo, b: [bergen.lat, bergen.lon] }), metres, 'one of each');
      assert.equal(four({ w: oslo.lat, x: oslo.lon, y: bergen.lat, z: bergen.lon }), metres);
      for (const bad of [
        { a: oslo },
        { a: oslo, b: null },
        { a: oslo, b: { lat: '60', lon: 5 } },
        { a: oslo, b: { lat: Number.NaN, lon: 5 } },
        { a: 'oslo', b: bergen },
        { a: [1, 2, 3], b: bergen },
      ])
        assert.equal(two(bad), null, JSON.stringify(bad));
      assert.equal(four({ w: 1, x: 2, y: '3', z: 4 }), null);
      assert.equal(four({ w: 1, x: 2, y: 3 }), null);
    });

  it('in_timetable: ISO days and local slots in the unit time zone', () => {
    const table = [{ day_of_week: [1, 2, 3, 4, 5], time_slots: [{ start: '02:00', end: '04:00' }] }];
    const f = compile({ in_timetable: [table] }, { timezone: 'Europe/Oslo' });
    // 2026-01-05 is a Monday; Oslo is UTC+1 in winter.
    assert.equal(f({ now: Date.parse('2026-01-05T01:30:00Z') }), true);
    assert.equal(f({ now: Date.parse('2026-01-05T03:00:00Z') }), false);
    assert.equal(f({ now: Date.parse('2026-01-04T01:30:00Z') }), false);
    const wire = [{ dayOfWeek: 7, timeSlots: [{ start: '00:00', end: '24:00' }] }];
    assert.equal(
      compile(
        { in_timetable: [wire, { var: 't' }] },
        { timezone: 'UTC' },
      )({ t: Date.parse('2026-01-04T23:59:00Z') }),
      true,
    );
  });

  it('in_timetable: entries written in place, as under updates, alone or with the time to test', () => {
    const entry = { day_of_week: [1, 2, 3, 4, 5], time_slots: [{ start: '02:00', end: '04:00' }] };
    const sunday = { dayOfWeek: 7, timeSlots: [{ start: '10:00', end: '11:00' }] };
    const monday0130 = Date.parse('2026-01-05T01:30:00Z');
    const sunday1030 = Date.parse('2026-01-04T10:30:00Z');
    const one = compile({ in_timetable: [entry] }, { timezone: 'Europe/Oslo' });
    const plain = compile({ in_timetable: entry }, { timezone: 'Europe/Oslo' });
    const two = compile({ in_timetable: [entry, sunday] }, { timezone: 'UTC' });
    const at = compile({ in_timetable: [entry, sunday, { var: 't' }] }, { timezone: 'UTC' });
    assert.deepEqual(
      [one({ now: monday0130 }), plain({ now: monday0130 }), one({ now: sunday1030 })],
      [true, true, false],
    );
    assert.deepEqual([two({ now: sunday1030 }), two({ now: monday0130 })], [true, false]);
    assert.deepEqual(
      [at({ t: sunday1030, now: monday0130 }), at({ t: monday0130 + 3_600_000 })],
      [true, true],
    );
  });
});
