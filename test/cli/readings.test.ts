/**
 * What an operator reads on a unit, through the installed command: `pitcrew signals` and
 * `pitcrew status` as text on a terminal (a real pty, through script(1)), JSON with --json or piped.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, runBin, startCli } from '../helpers/cli.js';
import { configFile } from '../helpers/tmp.js';

/** The installed command on a terminal: script(1) gives it a pty. */
function onTerminal(args: string[]): Promise<string> {
  const cmd = [path.join(ROOT, 'bin/pitcrew.js'), ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], {
    env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  return new Promise((resolve) => child.on('close', () => resolve(out.replace(/\r/g, ''))));
}

describe('pitcrew signals and status for people', () => {
  it('prints readings with their age, and a status summary; JSON when asked or piped', async () => {
    const { file } = configFile(
      (dir) => `version: 1
unit: { id: look-1, data_dir: var }
control: { socket: ${dir}/ctl.sock }
services:
  obd:
    driver: sim-vehicle
    settings: { seed: 3 }
    workers:
      - name: fast
        interval: 100ms
        messages:
          - { handler: query, args: { pid: COOLANT_TEMP }, returner: [signals, emit] }
          - { handler: query, args: { pid: NOPE } }
`,
    );
    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor((l) => l.includes('"vehicle/obd/coolant_temp"'));

    const text = await onTerminal(['signals', 'signals.obd.*', '-c', file]);
    assert.match(text, /^signals\.obd\.coolant_temp -?\d+ °C \d+\.\d s ago$/m);
    const piped = await runBin(['signals', 'coolant', '-c', file]);
    const line = JSON.parse(piped.stdout) as { signal: string; unit: string; age_ms: number };
    assert.deepEqual(
      [line.signal, line.unit, typeof line.age_ms],
      ['signals.obd.coolant_temp', '°C', 'number'],
    );
    assert.equal((await runBin(['signals', 'nothing-like-it', '-c', file])).stdout, '');

    const status = await onTerminal(['status', '-c', file]);
    assert.match(status, /^unit look-1, up /m);
    assert.match(status, /^cloud off/m);
    assert.match(status, /^service obd running for /m);
    assert.match(
      status,
      /^ {2}worker fast running, \d+ runs, next in .*; errors: message 2: unknown PID "NOPE".*\(\d+×\)$/m,
    );
    const json = await onTerminal(['status', '--json', '-c', file]);
    assert.equal((JSON.parse(json) as { unit: string }).unit, 'look-1');
  });
});
