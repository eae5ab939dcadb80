/**
 * AutoPi's Python conditions as JsonLogic: each converted condition is run by pitcrew's own
 * JsonLogic on events, and must say what Python would say; what cannot be converted is refused
 * with a reason, never guessed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conditionToLogic, ExprError, valueToTemplate } from '../../agent/import/python-expr.js';
import { compileLogic } from '../../agent/reactor/logic.js';

const ev = (data: Record<string, unknown>, tag = 'vehicle/engine/running', match: string[] = []) => ({
  event: { tag, data, ts: 0 },
  match,
});

/** [condition, event, what Python gives] */
const CASES: [string, ReturnType<typeof ev>, boolean][] = [
  ['$event["data"]["trigger"] == "timer"', ev({ trigger: 'timer' }), true],
  ['$event["data"]["trigger"] == "timer"', ev({ trigger: 'wake' }), false],
  // Python's == is strict: 1 is not "1" (JsonLogic's == would say it is).
  ["$event['data']['value'] == 1", ev({ value: '1' }), false],
  ['$event["data"]["value"] != 1', ev({ value: '1' }), true],
  ['$event["data"]["value"] > 3 and $event["tag"] != "x"', ev({ value: 4 }), true],
  ['$event["data"]["value"] > 3 and $event["tag"] != "x"', ev({ value: 3 }), false],
  ['$event["data"]["value"] <= 3 or $event["data"]["force"]', ev({ value: 9, force: true }), true],
  ['not $event["data"]["force"]', ev({ force: false }), true],
  ['10 < $event["data"]["v"] < 20', ev({ v: 15 }), true],
  ['10 < $event["data"]["v"] < 20', ev({ v: 25 }), false],
  ['$event["data"]["wheel"] in ["fl", "fr"]', ev({ wheel: 'fr' }), true],
  ['$event["data"]["wheel"] not in ["fl", "fr"]', ev({ wheel: 'fr' }), false],
  ['"engine" in $event["tag"]', ev({}), true],
  ['$event["data"].get("reason") is None', ev({}), true],
  ['$event["data"].get("reason") is not None', ev({ reason: 'x' }), true],
  ['$event.get("data", {}).get("valid", True) == True', ev({}), true],
  ['$event.get("data", {}).get("valid", True) == True', ev({ valid: false }), false],
  [
    '($event["data"]["a"] == 1 or $event["data"]["b"] == 2) and not ($event["data"]["c"] == 3)',
    ev({ b: 2, c: 4 }),
    true,
  ],
  ['$event["data"]["list"][1] == -5', ev({ list: [0, -5] }), true],
  ['$match.group(1) == "engine"', ev({}, 'vehicle/engine/running', ['engine']), true],
];

describe('Python conditions as JsonLogic', () => {
  for (const [src, data, expected] of CASES)
    it(`${src} on ${JSON.stringify(data.event.data)}`, () => {
      const f = compileLogic(conditionToLogic(src));
      assert.equal(Boolean(f(data)), expected);
    });

  it('refuses what is code, not a comparison, and says what', () => {
    const refused: [string, RegExp][] = [
      ['len($event["data"]) > 2', /'len' is Python code/],
      ['$context["count"] > 1', /context has no counterpart/],
      ['$salt["cmd.run"]("ls")', /\$salt has no counterpart/],
      ['$event["data"]["v"] + 1 > 2', /'\+' is not a comparison/],
      ['$event["data"][$event["tag"]] == 1', /subscript that is not a constant/],
      ['$event["data"]["v"] ==', /ends too soon/],
      ['$match.group(0) == "x"', /group number from 1/],
      ['$event["data"]["a.b"] == 1', /has a dot in it/],
      ['"open', /not closed/],
    ];
    for (const [src, why] of refused)
      assert.throws(
        () => conditionToLogic(src),
        (e) => e instanceof ExprError && why.test(e.message),
        src,
      );
  });

  it('keyword-resolved values: one reference is a template that keeps its type; text stays text', () => {
    assert.equal(valueToTemplate('$event'), '{{ event }}');
    assert.equal(valueToTemplate('$event["data"]["value"]'), '{{ event.data.value }}');
    assert.equal(valueToTemplate('$match.group(2)'), '{{ match.1 }}');
    assert.equal(valueToTemplate('power.sleep'), 'power.sleep');
    assert.throws(() => valueToTemplate('$event["data"]["v"] > 1'), /an expression, not one value/);
  });
});
