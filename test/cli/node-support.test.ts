import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { nodeSupportProblem } from '../../agent/cli/node-support.js';
import { ROOT } from '../helpers/cli.js';

describe('supported Node.js lines', () => {
  it('22 and 24 are supported; 26 is said to break the serial drivers; package.json agrees', () => {
    for (const v of ['v22.12.0', 'v24.22.3']) assert.equal(nodeSupportProblem(v), undefined);
    assert.match(nodeSupportProblem('v26.12.1')!, /not supported .* serial drivers .* stop receiving/);
    assert.match(nodeSupportProblem('v20.20.2')!, /not supported \(supported: 22 and 24\)/);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    assert.equal(pkg.engines.node, '>=22 <26');
    assert.equal(nodeSupportProblem(), undefined, `this test runs on ${process.version}`);
  });
});
