/** Every node of a parsed file knows its line and column, in whatever order the parse asks for them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigIssue, Pos } from '../../agent/config/errors.js';
import { type LNode, parseYamlSource } from '../../agent/config/yaml-source.js';

const TEXT = `a: 1
b:
c: [x, "y"]
d:
  - &k {e: 2}
  - *k

f: |
  text
g: last
`;

/** Each value's position (and each key's, as `key@`), by key path. */
function positions(node: LNode, at: string, out: Record<string, string>): Record<string, string> {
  const p = (pos: Pos) => `${pos.line}:${pos.column}`;
  out[at || '.'] = p(node.pos);
  if (node.t === 'seq') for (const [i, item] of node.items.entries()) positions(item, `${at}[${i}]`, out);
  if (node.t === 'map')
    for (const [k, entry] of node.entries) {
      out[`${at}.${k}@`] = p(entry.keyPos);
      positions(entry.node, `${at}.${k}`, out);
    }
  return out;
}

describe('YAML positions', () => {
  it('names the line and column of every key and value, across empty values, aliases and blank lines', () => {
    const issues: ConfigIssue[] = [];
    const root = parseYamlSource('f.yaml', TEXT, {}, issues)!;
    assert.deepEqual(issues, []);
    assert.deepEqual(positions(root, '', {}), {
      '.': '1:1',
      '.a@': '1:1',
      '.a': '1:4',
      '.b@': '2:1',
      // An empty value has no text of its own: where its key is.
      '.b': '2:1',
      '.c@': '3:1',
      '.c': '3:4',
      '.c[0]': '3:5',
      '.c[1]': '3:8',
      '.d@': '4:1',
      '.d': '5:3',
      // A node with an anchor is where its own text starts.
      '.d[0]': '5:8',
      '.d[0].e@': '5:9',
      '.d[0].e': '5:12',
      // The alias is the anchored node itself.
      '.d[1]': '5:8',
      '.d[1].e@': '5:9',
      '.d[1].e': '5:12',
      '.f@': '8:1',
      // A block scalar is its first line of text.
      '.f': '9:1',
      '.g@': '10:1',
      '.g': '10:4',
    });
  });

  it('places an empty list item at its dash, after items of any size, comments and blank lines', () => {
    const issues: ConfigIssue[] = [];
    const root = parseYamlSource(
      'f.yaml',
      'do:\n  - log:\n      message: x\n  -\n  -\t# c\n\n  # c\n  -\n  - b\n',
      {},
      issues,
    )!;
    assert.deepEqual(issues, []);
    const p = positions(root, '', {});
    assert.deepEqual([p['.do[1]'], p['.do[2]'], p['.do[3]'], p['.do[4]']], ['4:3', '5:3', '8:3', '9:5']);
  });
});
