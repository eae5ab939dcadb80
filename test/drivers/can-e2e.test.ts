/** The installed command (bin/pitcrew.js) replaying a candump log through a DBC: decoded events and status. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/agent.js';
import { runBin, startCli } from '../helpers/cli.js';
import { configFile } from '../helpers/tmp.js';

describe('pitcrew run with a can service (real process)', () => {
  it('replays a log, emits decoded messages and counts what it could not decode', async () => {
    const { file } = configFile(
      (dir) => `version: 1
unit: { id: can-1, data_dir: var }
control: { socket: ${dir}/ctl.sock }
services:
  bus:
    driver: can
    settings:
      source: { type: replay, file: ${FIXTURES}/can/logs/socialledge.candump-l.log, speed: 10, loop: true }
      dbc: [${FIXTURES}/can/dbc/cantools/socialledge.dbc]
      emit: [{ message: IO_DEBUG }]
`,
    );
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    const line = await agent.waitFor((l) => l.includes('"vehicle/can/IO_DEBUG"'));
    assert.deepEqual((JSON.parse(line) as { data: unknown }).data, {
      IO_DEBUG_test_unsigned: 1,
      IO_DEBUG_test_enum: 2,
      IO_DEBUG_test_signed: 3,
      IO_DEBUG_test_float: 2,
    });
    const status = await runBin(['status', '-c', file]);
    assert.equal(status.code, 0, status.stderr);
    const driver = (JSON.parse(status.stdout) as { services: { bus: { driver: Record<string, unknown> } } })
      .services.bus.driver;
    assert.equal(driver.source, 'replay');
    assert.ok(
      (driver.unknown_ids as number) >= 1 &&
        (driver.wrong_size as number) >= 1 &&
        (driver.error_frames as number) >= 1,
    );
    assert.deepEqual(driver.unknown, ['1F3']);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
  });
});
