import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../agent/config/errors.js';
import { loadConfigSync } from '../../agent/config/load.js';
import { tmpDir, writeFiles } from '../helpers/tmp.js';
import { BAD_CASES } from './bad-configs.cases.js';

describe('bad configs name file, line, column, key path and reason', () => {
  for (const c of BAD_CASES) {
    it(c.name, () => {
      const dir = tmpDir();
      writeFiles(dir, c.files);
      let error: unknown;
      try {
        loadConfigSync(path.join(dir, 'main.yaml'), { ...c.env });
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      const got = error.issues.map((i) => [
        path.relative(dir, i.file),
        i.line,
        i.column,
        i.path,
        i.message.replaceAll(dir, '<dir>'),
      ]);
      assert.deepEqual(got, c.errors);
    });
  }
});
