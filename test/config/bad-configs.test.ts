import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigMemo } from '../../agent/config/memo.js';
import { configIssues } from '../helpers/config-issues.js';
import { tmpDir, writeFiles } from '../helpers/tmp.js';
import { BAD_CASES } from './bad-configs.cases.js';

describe('bad configs name file, line, column, key path and reason', () => {
  for (const c of BAD_CASES) {
    it(c.name, () => {
      const dir = tmpDir();
      writeFiles(dir, c.files);
      assert.deepEqual(configIssues(dir, { ...c.env }), c.errors);
    });
  }
});

describe('a reload names the same errors from what the load before kept (the config memo)', () => {
  for (const c of BAD_CASES) {
    it(c.name, () => {
      const dir = tmpDir();
      writeFiles(dir, c.files);
      const memo = new ConfigMemo();
      assert.deepEqual(configIssues(dir, { ...c.env }, memo), c.errors);
      assert.deepEqual(configIssues(dir, { ...c.env }, memo), c.errors);
    });
  }
});
