import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { nodeSupportProblem } from '../../agent/cli/node-support.js';
import { ROOT } from '../helpers/cli.js';

describe('supported Node.js lines', () => {
  it('the LTS lines 22, 24 and 26 are supported, no other; package.json agrees', () => {
    for (const v of ['v22.12.0', 'v24.22.3', 'v26.12.1']) assert.equal(nodeSupportProblem(v), undefined, v);
    for (const v of ['v20.20.2', 'v23.11.0', 'v25.1.0', 'v28.0.0'])
      assert.match(nodeSupportProblem(v)!, /not supported \(supported: the LTS lines 22, 24 and 26\)/, v);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    assert.equal(pkg.engines.node, '>=22 <27');
    assert.equal(nodeSupportProblem(), undefined, `this test runs on ${process.version}`);
  });
});
