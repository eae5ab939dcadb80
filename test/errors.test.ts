/** The error catalogue, the code that raises it and the README's table agree. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { errors as control } from '../agent/control/errors.js';
import { errors as kernel } from '../agent/core/errors.js';
import { errors as drivers } from '../agent/drivers/errors.js';
import { errors } from '../agent/errors.js';
import { errors as hooks } from '../agent/hooks/errors.js';
import { errors as power } from '../agent/power/errors.js';
import { errors as reactor } from '../agent/reactor/errors.js';
import { errors as rollout } from '../agent/rollout/errors.js';
import { errors as updates } from '../agent/updates/errors.js';
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

  it("each layer's codes are its own: none defined twice, none the merged catalogue lacks", () => {
    const layers = { control, drivers, hooks, power, reactor, rollout, updates };
    const owner = new Map<string, string>();
    const twice: string[] = [];
    for (const [layer, catalogue] of Object.entries(layers)) {
      // A layer's catalogue is the kernel's, the same functions, plus its own.
      for (const [name, make] of Object.entries(kernel))
        assert.equal((catalogue as Record<string, unknown>)[name], make, `${layer}.${name}`);
      for (const name of Object.keys(catalogue).filter((n) => !(n in kernel))) {
        if (owner.has(name)) twice.push(`${name}: ${owner.get(name)} and ${layer}`);
        owner.set(name, layer);
      }
    }
    assert.deepEqual(twice, []);
    assert.deepEqual(Object.keys(errors).sort(), [...Object.keys(kernel), ...owner.keys()].sort());
    const codes = catalogue.map((c) => c.code);
    assert.equal(new Set(codes).size, codes.length, 'a code used by two names');
  });

  it('every code is raised somewhere in the agent', () => {
    const source = files(path.join(ROOT, 'agent'))
      .filter((f) => !/agent\/(core|control|drivers|hooks|reactor|rollout|updates)\/errors\.ts$/.test(f))
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
