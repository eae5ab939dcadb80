import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Action } from '../../agent/reactor/actions/index.js';
import { log } from '../../agent/reactor/actions/log.js';
import type { ActionEnv, Run } from '../../agent/reactor/actions/types.js';

describe('the log action', () => {
  it("writes one JSON line per run at its level, with the run's source and the rendered message", () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'info', base: undefined, timestamp: false },
      { write: (s) => lines.push(s) },
    );
    const env = { host: { log: logger } } as unknown as ActionEnv;
    const warn = log.compile(
      log.schema(Action).parse({ level: 'warn', message: 'v={{ event.data.v }}' }),
      env,
    );
    const debug = log.compile(log.schema(Action).parse({ level: 'debug', message: 'hidden' }), env);
    const run = (source: string, v: number) =>
      ({ source, data: { event: { data: { v } } } }) as unknown as Run;
    warn.run(run('rule:a', 1));
    warn.run(run('rule:a', 2));
    warn.run(run('rule:b', 3));
    debug.run(run('rule:a', 4));
    assert.deepEqual(
      lines.map((l) => JSON.parse(l)),
      [
        { level: 40, source: 'rule:a', msg: 'v=1' },
        { level: 40, source: 'rule:a', msg: 'v=2' },
        { level: 40, source: 'rule:b', msg: 'v=3' },
      ],
    );
  });
});
