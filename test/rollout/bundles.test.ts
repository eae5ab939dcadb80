/**
 * Signed rule bundles through a real mosquitto, with the installed command on both sides:
 * `pitcrew keygen`, `bundle sign`, `bundle push` to a running agent, which applies a good bundle
 * and refuses replayed, older, untrusted, tampered and invalid ones, acknowledging each.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Bundle, protoFileIssue } from '../../agent/config/schema.js';
import { describeIssues } from '../../agent/config/schema-issues.js';
import type { Event } from '../../agent/core/bus.js';
import { FIXTURES } from '../helpers/agent.js';
import { bundleUnit } from '../helpers/bundle-unit.js';
import { runBin, startCli } from '../helpers/cli.js';
import { Broker } from '../helpers/mosquitto.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const tagged = (tag: string) => (l: string) => l.startsWith('{') && (JSON.parse(l) as Event).tag === tag;

describe('signed bundles (real broker, installed command)', () => {
  it('applies a newer signed bundle; refuses replays, downgrades, strangers, tampering and bad rules; acks each', async () => {
    const broker = await Broker.start();
    after(() => broker.close());
    const dir = tmpDir();
    const key = async (name: string) => {
      const r = await runBin(['keygen', '-o', path.join(dir, name)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^key id: [0-9a-f]{16}$/m);
    };
    await key('fleet.key');
    await key('stranger.key');

    const file = path.join(dir, 'pitcrew.yaml');
    writeFileSync(
      file,
      `version: 1
unit: { id: b-1, data_dir: var }
control: { socket: ${dir}/ctl.sock }
cloud: { mqtt: { url: "${broker.url}", reconnect: { min: 100ms, max: 1s } } }
rollout: { bundles: { trust: { keys: [fleet.key.pub] } } }
reactor:
  rules:
    - { name: r0, on: ping, do: [{ emit: { tag: pong/zero } }] }
`,
    );
    const sub = await broker.client();
    after(() => sub.endAsync());
    const acks: { version: number | null; status: string; errors: string[] }[] = [];
    await sub.subscribeAsync('pitcrew/b-1/ack', { qos: 1 });
    sub.on('message', (_t, m) => acks.push(JSON.parse(m.toString())));

    const agent = startCli(['run', '-c', file, '--events'], { runner: 'bin' });
    after(() => agent.child.kill('SIGKILL'));
    await agent.waitFor(tagged('system/cloud/connected'));

    const push = async (version: number, rules: string, signer = 'fleet.key', tamper = false) => {
      const b = path.join(dir, `b${version}.yaml`);
      writeFileSync(b, `version: ${version}\nrules:\n${rules}`);
      const signed = await runBin(['bundle', 'sign', '-k', path.join(dir, signer), b]);
      assert.equal(signed.code, 0, signed.stderr);
      let envelope = signed.stdout;
      if (tamper) {
        const e = JSON.parse(envelope) as { payload: string };
        e.payload = Buffer.from(
          Buffer.from(e.payload, 'base64').toString().replace('pong', 'PWNED'),
        ).toString('base64');
        envelope = JSON.stringify(e);
      }
      const env = path.join(dir, `b${version}.json`);
      writeFileSync(env, envelope);
      // Counted before the push: its ack may arrive before the push command has exited.
      const n = acks.length;
      const pushed = await runBin(['bundle', 'push', '--url', broker.url, '--unit', 'b-1', env]);
      assert.equal(pushed.code, 0, pushed.stderr);
      await waitFor(
        () => acks.length > n,
        `the ack of bundle ${version}`,
        () => agent.stderr(),
      );
      return acks.at(-1)!;
    };
    const rule = (name: string, tag: string) =>
      `  - { name: ${name}, on: ping, do: [{ emit: { tag: ${tag} } }] }\n`;

    assert.deepEqual(await push(1, rule('r1', 'pong/one')), { version: 1, status: 'applied', errors: [] });
    await runBin(['emit', 'ping', '-c', file]);
    await agent.waitFor(tagged('pong/one'));
    const ruleNames = JSON.parse((await runBin(['rules', '-c', file])).stdout) as { name: string }[];
    assert.deepEqual(
      ruleNames.map((r) => r.name),
      ['r1'],
    );

    // The same bundle again (a fleet rollout's retry) is acknowledged as before and applies nothing.
    const applies = () => agent.lines.filter(tagged('system/config/applied')).length;
    const appliedBefore = applies();
    assert.deepEqual(await push(1, rule('r1', 'pong/one')), { version: 1, status: 'applied', errors: [] });
    assert.equal(applies(), appliedBefore);
    const replayed = await push(1, rule('r1b', 'pong/other'));
    assert.equal(replayed.status, 'rejected');
    assert.match(replayed.errors[0]!, /not newer than the applied 1/);
    assert.match((await push(0, rule('r0', 'pong/zero'))).errors[0]!, /not newer/);
    assert.match(
      (await push(5, rule('r5', 'pong/five'), 'stranger.key')).errors[0]!,
      /key \w+ is not trusted/,
    );
    assert.match(
      (await push(6, rule('r6', 'pong/six'), 'fleet.key', true)).errors[0]!,
      /signature does not match/,
    );
    // Signed and well-formed, but naming a service the unit does not have: only the unit's full check sees it.
    const bad = await push(
      7,
      '  - { name: r7, on: ping, do: [{ call: { service: nope, handler: query } }] }\n',
    );
    assert.equal(bad.status, 'rejected');
    assert.match(
      bad.errors.join('\n'),
      /bundle-7\/overlay\.json:\d+:\d+ reactor\.rules\[0\]\.do\[0\].*unknown service 'nope'/,
    );
    assert.deepEqual(await push(8, rule('r8', 'pong/eight')), { version: 8, status: 'applied', errors: [] });
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
  });
});

describe('bundles carrying code', () => {
  it('takes only file paths that stay in the bundle: no .., nothing absolute, no hidden names, at most 8 deep', () => {
    const file = { sha256: '0'.repeat(64), content: '' };
    const paths = (p: string) => Bundle.safeParse({ version: 1, rules: [], files: { [p]: file } }).success;
    assert.equal(paths('mod/probe.mjs'), true);
    for (const bad of [
      '../evil.mjs',
      'a/../../b',
      '/etc/passwd',
      '.git/config',
      'a//b',
      `${'d/'.repeat(8)}f`,
      'x'.repeat(600),
    ])
      assert.equal(paths(bad), false, bad);
    // As it arrives, parsed from JSON: an own key that zod's record skips, so it is looked for.
    const arrived = JSON.parse(`{"version":1,"rules":[],"files":{"__proto__":${JSON.stringify(file)}}}`);
    assert.equal(
      protoFileIssue(arrived.files),
      "files.__proto__: '__proto__' cannot be a file's whole path: put it in a folder",
    );
    assert.equal(protoFileIssue({ 'lib/__proto__': file }), undefined);
    assert.equal(paths('lib/__proto__'), true);
    const missing = Bundle.shape.files.safeParse(
      { 'a.js': { sha256: '0'.repeat(64) } },
      { reportInput: true },
    );
    assert.equal(
      describeIssues(Bundle, missing.error!.issues, ['files']),
      "files.a.js.content: missing required key 'content'",
    );
    assert.equal(
      Bundle.safeParse({ version: 1, rules: [], files: { 'a.js': { sha256: 'not-hex', content: '' } } })
        .success,
      false,
    );
  });

  it('the signer refuses a file whose whole path is __proto__ (a record would drop it unseen), through the installed command', async () => {
    const dir = tmpDir();
    assert.equal((await runBin(['keygen', '-o', path.join(dir, 'fleet.key')])).code, 0);
    const b = path.join(dir, 'bundle');
    mkdirSync(path.join(b, 'lib'), { recursive: true });
    writeFileSync(path.join(b, 'bundle.yaml'), 'version: 1\nrules: []\n');
    writeFileSync(path.join(b, 'lib/__proto__'), 'in a folder it is a name like any other\n');
    const sign = () => runBin(['bundle', 'sign', '-k', path.join(dir, 'fleet.key'), b]);
    const signed = await sign();
    assert.equal(signed.code, 0, signed.stderr);
    assert.deepEqual(
      Object.keys(JSON.parse(Buffer.from(JSON.parse(signed.stdout).payload, 'base64').toString()).files),
      ['lib/__proto__'],
    );
    writeFileSync(path.join(b, '__proto__'), 'at the top it is not\n');
    const refused = await sign();
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /files\.__proto__: '__proto__' cannot be a file's whole path: put it in a folder/,
    );
  });

  it('a bundle with a module and a DBC runs them from its own directory; one with a tampered file is refused whole', async () => {
    const unit = await bundleUnit('b-2');
    const { dir, file, agent } = unit;

    // The bundle as a directory: bundle.yaml, a module, a DBC and a log to replay.
    const b = path.join(dir, 'bundle');
    mkdirSync(path.join(b, 'can'), { recursive: true });
    copyFileSync(path.join(FIXTURES, 'can/dbc/cantools/socialledge.dbc'), path.join(b, 'can/car.dbc'));
    copyFileSync(path.join(FIXTURES, 'can/logs/socialledge.candump-l.log'), path.join(b, 'can/drive.log'));
    writeFileSync(
      path.join(b, 'probe.mjs'),
      "export function createService(_s, ctx) { return { handlers: { hi: async () => ({ type: 'hi', value: 'from the bundle', ts: ctx.clock.now() }) } }; }\n",
    );
    const bundle = (version: number) =>
      writeFileSync(
        path.join(b, 'bundle.yaml'),
        `version: ${version}
rules: []
services:
  probe: { driver: module, settings: { module: ./probe.mjs } }
  car:
    driver: can
    settings:
      source: { type: replay, file: ./can/drive.log, speed: 10, loop: true }
      dbc: [./can/car.dbc]
      emit: [{ message: IO_DEBUG }]
`,
      );
    const push = async (tamper = false) => {
      let envelope = await unit.sign(b);
      if (tamper) {
        // Signed by the fleet's key, but a file's bytes changed after its digest was taken.
        const e = JSON.parse(envelope) as { payload: string };
        const payload = JSON.parse(Buffer.from(e.payload, 'base64').toString());
        payload.files['probe.mjs'].content = Buffer.from('process.exit(1)\n').toString('base64');
        const f = path.join(dir, 'tampered.json');
        writeFileSync(f, JSON.stringify(payload));
        envelope = await unit.sign(f);
      }
      return unit.push(envelope);
    };
    bundle(1);
    assert.deepEqual(await push(), { version: 1, status: 'applied', errors: [] });
    await agent.waitFor((l) => l.includes('"vehicle/can/IO_DEBUG"'));
    const hi = await runBin(['call', 'probe', 'hi', '-c', file]);
    assert.equal(JSON.parse(hi.stdout).value, 'from the bundle');
    assert.ok(existsSync(path.join(dir, 'var/rollout/bundle-1/can/car.dbc')));

    bundle(2);
    const refused = await push(true);
    assert.equal(refused.status, 'rejected');
    assert.match(
      refused.errors[0]!,
      /file probe\.mjs does not match its sha256: the bundle was refused whole/,
    );
    assert.ok(!existsSync(path.join(dir, 'var/rollout/bundle-2')), 'nothing of it written');
    assert.equal(
      JSON.parse((await runBin(['call', 'probe', 'hi', '-c', file])).stdout).value,
      'from the bundle',
    );
  });
});
