import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { ConfigError } from '../../agent/config/errors.js';
import { loadConfigSync } from '../../agent/config/load.js';
import { mutate } from '../helpers/mutate.js';
import { tmpDir } from '../helpers/tmp.js';
import { CONFIG_FILES } from './config-files.js';

const dir = tmpDir();
const file = path.join(dir, 'fuzz.yaml');
const env = { PITCREW_UNIT_ID: 'fuzz' };

/** Every outcome is a valid config or a ConfigError whose issues all have positions. */
function loadsOrExplains(text: string): void {
  writeFileSync(file, text);
  try {
    loadConfigSync(file, env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    assert.ok(e.issues.length > 0);
    for (const i of e.issues) {
      assert.ok(i.line >= 1 && i.column >= 1 && i.file.length > 0 && i.message.length > 0, JSON.stringify(i));
    }
  }
}

const texts = CONFIG_FILES.map((f) => readFileSync(f, 'utf8'));
const runs = { numRuns: 150 };

describe('the loader never crashes', () => {
  it('on random YAML-ish text', () => {
    const chars = fc.constantFrom(...'ab: -[]{}\n\t"\'#&*!|>%@`,?${env:X}0.5'.split(''));
    fc.assert(fc.property(fc.string({ unit: chars, maxLength: 200 }), loadsOrExplains), runs);
  });

  it('on random JSON-like documents', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => loadsOrExplains(stringify(v))),
      runs,
    );
  });

  it('on text mutations of the example configs', () => {
    const edit = fc.record({
      at: fc.nat(),
      cut: fc.nat({ max: 20 }),
      insert: fc.string({ maxLength: 12 }),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...texts),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        (text, edits) => {
          let t = text;
          for (const e of edits) {
            const at = e.at % (t.length + 1);
            t = t.slice(0, at) + e.insert + t.slice(at + e.cut);
          }
          loadsOrExplains(t);
        },
      ),
      runs,
    );
  });

  it('on structural mutations of the example configs (a value replaced anywhere)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...texts), fc.nat(), fc.jsonValue({ maxDepth: 2 }), (text, pick, value) => {
        const doc = parse(text) as unknown;
        mutate(doc, { pick, value, drop: false });
        loadsOrExplains(stringify(doc));
      }),
      runs,
    );
  });
});
