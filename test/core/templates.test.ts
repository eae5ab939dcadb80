import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTemplate, parseTemplate } from '../../agent/core/templates.js';

const data = {
  event: { tag: 'a/b', data: { v: 5, list: [1, 2], obj: { k: 'x' } } },
  match: ['b'],
  state: { n: null },
};

describe('templates', () => {
  it('a string that is exactly one template keeps the value’s type', () => {
    assert.equal(compileTemplate('{{ event.data.v }}')(data), 5);
    assert.deepEqual(compileTemplate('{{event.data.list}}')(data), [1, 2]);
    assert.equal(compileTemplate('{{ state.n }}')(data), null);
  });

  it('mixed text renders to a string; objects as JSON; indices by dot or brackets', () => {
    assert.equal(
      compileTemplate('v={{ event.data.v }} m={{ match.0 }} l={{ event.data.list[1] }}')(data),
      'v=5 m=b l=2',
    );
    assert.equal(compileTemplate('o={{ event.data.obj }}')(data), 'o={"k":"x"}');
  });

  it('the same template, compiled again, is the one function; each render a new value', () => {
    const a = compileTemplate({ v: '{{ event.data.v }}', t: '{{ event.tag }}' });
    const b = compileTemplate({ v: '{{ event.data.v }}', t: '{{ event.tag }}' });
    assert.equal(a, b);
    assert.notEqual(a(data), b(data));
    assert.deepEqual(a(data), { v: 5, t: 'a/b' });
  });

  it('values JSON cannot say whole are not taken for others with the same JSON', () => {
    const when = new Date(0);
    compileTemplate(when);
    assert.equal(compileTemplate(when.toJSON())(data), '1970-01-01T00:00:00.000Z');
    assert.ok(Object.is(compileTemplate(-0)(data), -0));
    assert.equal(compileTemplate(0)(data), 0);
    assert.deepEqual(Object.keys(compileTemplate({ k: undefined })(data) as object), ['k']);
    assert.deepEqual(Object.keys(compileTemplate({})(data) as object), []);
  });

  it('renders inside lists and maps, and leaves other values alone', () => {
    assert.deepEqual(
      compileTemplate({ a: ['{{ event.tag }}', 3], b: { c: '{{ event.data.v }}' }, d: true })(data),
      {
        a: ['a/b', 3],
        b: { c: 5 },
        d: true,
      },
    );
  });

  it('a missing path is an error naming it', () => {
    assert.throws(
      () => compileTemplate('{{ event.data.nope }}')(data),
      (e: Error & { code?: string }) =>
        e.code === 'PITCREW_TEMPLATE_MISSING' && /'event.data.nope' is not set/.test(e.message),
    );
  });

  it('rejects expressions and unbalanced braces when parsed', () => {
    assert.throws(() => parseTemplate('{{ a + 1 }}'), { code: 'PITCREW_TEMPLATE_INVALID' });
    assert.throws(() => parseTemplate('{{ a'), /unbalanced/);
    assert.throws(() => parseTemplate('{{ }}'), { code: 'PITCREW_TEMPLATE_INVALID' });
    assert.deepEqual(parseTemplate('x {{ a.b[2] }} y'), ['x ', { path: ['a', 'b', '2'] }, ' y']);
  });
});
