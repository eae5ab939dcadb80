import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError } from '../../agent/config/errors.js';
import { loadConfigSync } from '../../agent/config/load.js';
import type { ConfigMemo } from '../../agent/config/memo.js';

export type Issue = [file: string, line: number, column: number, path: string, message: string];

/** Loads `dir/main.yaml`; its issues, positions relative to `dir` (none when it loads). */
export function configIssues(dir: string, env: Record<string, string> = {}, memo?: ConfigMemo): Issue[] {
  try {
    loadConfigSync(path.join(dir, 'main.yaml'), env, { memo });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map((i) => [
      path.relative(dir, i.file),
      i.line,
      i.column,
      i.path,
      i.message.replaceAll(dir, '<dir>'),
    ]);
  }
  return [];
}
