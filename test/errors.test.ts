/** The error catalogue, the code that raises it and the README's table agree. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { errors } from '../agent/errors.js';
import { ROOT } from './helpers/cli.js';

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });

describe('error catalogue', () => {
  const catalogue = Object.entries(errors).map(([name, make]) => ({
    name,
    code: (make as { code: string }).code,
  }));

  it('every code is raised somewhere in the agent', () => {
    const source = files(path.join(ROOT, 'agent'))
      .filter((f) => !f.endsWith(path.join('core', 'errors.ts')))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const never = catalogue.filter(({ name }) => !new RegExp(`errors\\.${name}\\b`).test(source));
    assert.deepEqual(never, []);
  });

  it("the README's table lists every code, and no code the catalogue does not have", () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const table = new Set([...readme.matchAll(/^\| `(PITCREW_[A-Z_]+)` \|/gm)].map((m) => m[1]));
    const codes = new Set(catalogue.map((c) => c.code));
    assert.deepEqual(
      [...codes].filter((c) => !table.has(c)),
      [],
      'missing from the README (npx tsx scripts/error-table.ts)',
    );
    assert.deepEqual(
      [...table].filter((c) => !codes.has(c!)),
      [],
      'in the README, not in the catalogue',
    );
  });
});
