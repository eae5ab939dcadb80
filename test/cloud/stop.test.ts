/**
 * A stop always ends: with the broker frozen (SIGSTOP, as a cellular link that drops without a
 * FIN looks), the installed command takes SIGTERM and exits 0 within 2 s.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startCli } from '../helpers/cli.js';
import { Broker } from '../helpers/mosquitto.js';
import { configFile } from '../helpers/tmp.js';

describe('stopping with a silent broker (real process, real broker)', () => {
  it('SIGTERM with the broker frozen: exit 0 within 2 s, the stop said in the log', async () => {
    const broker = await Broker.start();
    after(() => {
      if (broker.pid) process.kill(broker.pid, 'SIGCONT');
      return broker.close();
    });
    const { file } = configFile(
      (dir) => `version: 1
unit: { id: s-1, data_dir: var }
control: { socket: ${dir}/ctl.sock }
cloud: { mqtt: { url: "${broker.url}", keepalive: 30s } }
services:
  obd: { driver: sim-vehicle, settings: {} }
`,
    );
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor((l) => l.includes('"system/cloud/connected"'));
    process.kill(broker.pid!, 'SIGSTOP');
    const t0 = Date.now();
    agent.child.kill('SIGTERM');
    const code = await agent.exited;
    const took = Date.now() - t0;
    assert.equal(code, 0, agent.stderr());
    assert.ok(took < 2000, `stopped in ${took} ms`);
    assert.match(agent.stderr(), /SIGTERM: stopping/);
  });
});
