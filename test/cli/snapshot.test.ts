/**
 * The installed command's startup snapshot (agent/cli/snapshot.ts, bin/pitcrew.js): `npm run build`
 * builds it for the node running the build, the command starts from it, and it is never handed to
 * a node or a directory it was not built for. The checkout's own install is only read here; what
 * is changed is done on a copy of it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  utimesSync,
  watch,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/agent.js';
import { ROOT, startCli } from '../helpers/cli.js';
import { callsIn, positionOf } from '../helpers/syscalls.js';
import { configFile, tmpDir } from '../helpers/tmp.js';

const env = { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` };

/** A config of its own (data, socket) for one agent on the simulated vehicle, and `services`. */
const agentConfig = (services = '') =>
  configFile(
    (dir) => `version: 1
unit: { id: snap-1, data_dir: ${dir}/var }
control: { socket: ${dir}/ctl.sock }
services:
  obd:
    driver: sim-vehicle
    settings: {}
    workers: [{ name: fast, interval: 100ms, messages: [{ handler: query, args: { pid: RPM }, returner: emit }] }]
${services}`,
  ).file;

/** A module service (a fixture) that answers `handler` every 100 ms. */
const moduleService = (name: string, module: string, handler: string, isolation = 'none') => `  ${name}:
    driver: module
    settings: { module: ${FIXTURES}/modules/${module}, isolation: ${isolation} }
    workers: [{ name: w, interval: 100ms, messages: [{ handler: ${handler}, returner: emit }] }]
`;

/**
 * Starts `bin` on `config` (by default one of its own, with `services`); resolves with its
 * 'starting' log line once its first `ready` event (by default its RPM reading) is out.
 */
async function start(
  bin: string,
  extra: NodeJS.ProcessEnv = {},
  services = '',
  { config = agentConfig(services), ready = 'vehicle/obd/rpm' } = {},
) {
  const run = startCli(['run', '-c', config, '--events'], {
    env: { ...env, ...extra },
    runner: 'bin',
    bin,
  });
  after(() => run.child.kill('SIGKILL'));
  const starting = await run.waitFor((l) => l.includes('"msg":"starting"'), 20_000, 'stderr');
  await run.waitFor((l) => l.includes(`"tag":"${ready}`));
  return { run, starting };
}

async function stop(run: ReturnType<typeof startCli>) {
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.stderr());
}

/** A copy of this checkout's install (bin, dist, the default config, package.json; its node_modules linked), at `dir`. */
function copyInstall(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const f of ['bin', 'dist', 'config', 'package.json'])
    cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return path.join(dir, 'bin/pitcrew.js');
}

const stampFile = (bin: string) => path.join(path.dirname(bin), '../dist/bin/snapshot/stamp');

/**
 * `bin snapshot` under `buildEnv`, not blocking the event loop (a test watches what it does
 * meanwhile); it must succeed. What it printed.
 */
async function buildsIn(bin: string, buildEnv: NodeJS.ProcessEnv): Promise<string> {
  const build = spawn(bin, ['snapshot'], { env: buildEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  build.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  build.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const [code] = (await once(build, 'close')) as [number];
  assert.equal(code, 0, stderr);
  return stdout;
}

/**
 * Starts `bin` with one module service (`module`, asked `handler`): its first answer's value,
 * whether the agent started from the snapshot, and what `running` read of the agent's process.
 */
async function moduleAnswer<T>(
  bin: string,
  extra: NodeJS.ProcessEnv,
  module: string,
  handler: string,
  running?: (pid: number) => T,
) {
  const tag = `vehicle/probe/${handler}`;
  const { run, starting } = await start(bin, extra, moduleService('probe', module, handler), { ready: tag });
  const line = await run.waitFor((l) => l.includes(`"tag":"${tag}"`));
  const read = running?.(run.child.pid!);
  await stop(run);
  const { value } = (JSON.parse(line) as { data: { value: string } }).data;
  return { value, snapshot: /"snapshot":true/.test(starting), read };
}

/** The string hash seed of an agent `bin` starts, as the order of a hash table's keys (hash-order.mjs); and whether it started from the snapshot. */
async function hashOrder(bin: string, extra: NodeJS.ProcessEnv = {}) {
  const { value: order, snapshot } = await moduleAnswer(bin, extra, 'hash-order.mjs', 'order');
  assert.match(order, /^key\d+(,key\d+){30,}$/);
  return { order, snapshot };
}

/** The node flags a running process was started with, from /proc (the same after an execve). */
const nodeFlags = (pid: number) =>
  readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((a) => a.startsWith('--'));

describe('the startup snapshot', () => {
  it('is built by npm run build for this node, and the installed command starts from it', async () => {
    assert.ok(existsSync(path.join(ROOT, 'dist/bin/snapshot/pitcrew.blob')), 'run npm run build');
    const bin = path.join(ROOT, 'bin/pitcrew.js');
    const { run, starting } = await start(bin);
    assert.match(starting, /"snapshot":true/);
    // The builder, which refuses code generation, left no answer of its own in the blob.
    assert.match(starting, /"conditions":"generated"/);
    await stop(run);
    // PITCREW_SNAPSHOT=off: the bundle, and no build of a snapshot either.
    const off = await start(bin, { PITCREW_SNAPSHOT: 'off' });
    assert.match(off.starting, /"snapshot":false/);
    await stop(off.run);
    assert.doesNotMatch(off.run.stderr(), /startup snapshot/);
  });

  it("keeps the hash seed drawn when it was built: the same at each start, another for another build, never node's own", {
    timeout: 180_000,
  }, async () => {
    const bin = path.join(ROOT, 'bin/pitcrew.js');
    const first = await hashOrder(bin);
    const again = await hashOrder(bin);
    assert.ok(first.snapshot && again.snapshot);
    assert.equal(again.order, first.order, 'one blob, one seed');
    // Built again (a copy of the install, the checkout's own blob untouched): a seed of its own.
    const copy = copyInstall(path.join(tmpDir('pitcrew-install-'), 'a'));
    const built = spawnSync(copy, ['snapshot'], { env, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    const other = await hashOrder(copy);
    assert.ok(other.snapshot);
    assert.notEqual(other.order, first.order, 'each build draws its seed');
    // Without the snapshot, node draws one at each start (the flag that keeps a blob's is not passed).
    const off = [
      await hashOrder(bin, { PITCREW_SNAPSHOT: 'off' }),
      await hashOrder(bin, { PITCREW_SNAPSHOT: 'off' }),
    ];
    assert.ok(!off[0]!.snapshot && !off[1]!.snapshot);
    assert.notEqual(off[0]!.order, off[1]!.order);
  });

  it("is not used on another machine (a disk image copied), whose seed is not this one's own, and is built again here", {
    timeout: 180_000,
  }, async () => {
    const bin = copyInstall(path.join(tmpDir('pitcrew-install-'), 'a'));
    const built = spawnSync(bin, ['snapshot'], { env, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    const stamp = readFileSync(stampFile(bin), 'utf8');
    const machine = readFileSync('/etc/machine-id', 'utf8').trim();
    assert.ok(stamp.endsWith(` ${machine}\n`), stamp);
    const ours = await start(bin);
    assert.match(ours.starting, /"snapshot":true/);
    assert.deepEqual(
      nodeFlags(ours.run.child.pid!).filter((f) => /snapshot/.test(f)),
      ['--snapshot-blob', '--no-rehash-snapshot'],
    );
    await stop(ours.run);
    writeFileSync(stampFile(bin), stamp.replace(machine, 'f'.repeat(32)));
    const copied = await start(bin);
    assert.match(copied.starting, /"snapshot":false/);
    await copied.run.waitFor((l) => l.includes('startup snapshot built'), 120_000, 'stderr');
    await stop(copied.run);
    assert.equal(readFileSync(stampFile(bin), 'utf8'), stamp);
    assert.match((await start(bin)).starting, /"snapshot":true/);
  });

  it("asks glibc for huge pages when it starts from it (the blob is read through them); what the agent starts gets the caller's setting", async () => {
    const bin = path.join(ROOT, 'bin/pitcrew.js');
    /** What node was started with (/proc: glibc's parse leaves the first setting there), and what the agent's own code and children see. */
    const tunables = async (extra: NodeJS.ProcessEnv) => {
      const { value, read } = await moduleAnswer(bin, extra, 'glibc-tunables.mjs', 'tunables', (pid) =>
        readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .find((v) => v.startsWith('GLIBC_TUNABLES=')),
      );
      return { started: read, seen: value };
    };
    assert.deepEqual(await tunables({}), { started: 'GLIBC_TUNABLES=glibc.malloc.hugetlb=1', seen: 'none' });
    // The caller's own comes after it (and wins in glibc), and is what the agent hands on.
    assert.deepEqual(await tunables({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }), {
      started: 'GLIBC_TUNABLES=glibc.malloc.hugetlb=1',
      seen: 'glibc.malloc.hugetlb=0',
    });
    assert.deepEqual(await tunables({ PITCREW_SNAPSHOT: 'off' }), { started: undefined, seen: 'none' });
  });

  it('is not used once the install is upgraded in place (another build beside it), and is built again', {
    timeout: 180_000,
  }, async () => {
    const dir = tmpDir('pitcrew-install-');
    const bin = copyInstall(path.join(dir, 'a'));
    const cache = path.join(dir, 'cache');
    const built = spawnSync(bin, ['snapshot'], {
      env: { ...env, PITCREW_SNAPSHOT_DIR: cache },
      encoding: 'utf8',
    });
    assert.equal(built.status, 0, built.stderr);
    const id = path.join(path.dirname(bin), '../dist/bin/build-id');
    const before = readFileSync(id, 'utf8').trim();
    assert.match(readFileSync(path.join(cache, 'stamp'), 'utf8'), new RegExp(` ${before} `));
    assert.match((await start(bin, { PITCREW_SNAPSHOT_DIR: cache })).starting, /"snapshot":true/);
    // A new version unpacked over the old one: the same directory, a snapshot of the old one in the cache.
    writeFileSync(id, `${'0'.repeat(32)}\n`);
    const upgraded = await start(bin, { PITCREW_SNAPSHOT_DIR: cache });
    assert.match(upgraded.starting, /"snapshot":false/);
    await upgraded.run.waitFor((l) => l.includes('startup snapshot built'), 120_000, 'stderr');
    await stop(upgraded.run);
    assert.match(readFileSync(path.join(cache, 'stamp'), 'utf8'), new RegExp(` ${'0'.repeat(32)} `));
    assert.match((await start(bin, { PITCREW_SNAPSHOT_DIR: cache })).starting, /"snapshot":true/);
  });

  it('rehearses a start as it is built: in a scratch directory it removes, on none of the environment it was built in', {
    timeout: 180_000,
  }, async () => {
    const dir = tmpDir('pitcrew-rehearsal-');
    const scratch = path.join(dir, 'tmp');
    mkdirSync(scratch);
    const bin = copyInstall(path.join(dir, 'install'));
    const seen = new Set<string>();
    const watcher = watch(scratch, (_, name) => name && seen.add(name));
    const said = await buildsIn(bin, {
      ...env,
      TMPDIR: scratch,
      PITCREW_DATA_DIR: path.join(dir, 'var'),
      PITCREW_CONTROL_SOCKET: path.join(dir, 'ctl.sock'),
      PITCREW_MQTT_URL: 'mqtt://127.0.0.1:9',
    });
    watcher.close();
    const config = path.join(path.dirname(bin), '../config/pitcrew.yaml');
    assert.ok(said.includes(`; a start of ${config} rehearsed`), said);
    assert.ok(
      [...seen].some((n) => n.startsWith('pitcrew-rehearsal-')),
      [...seen].join(),
    );
    // (The command's own compile cache is node's, kept there for every start without the snapshot.)
    assert.deepEqual(
      readdirSync(scratch).filter((n) => n !== 'node-compile-cache'),
      [],
    );
    assert.ok(!existsSync(path.join(dir, 'var')) && !existsSync(path.join(dir, 'ctl.sock')));
    // Its databases held nothing: the blob starts an agent on real ones.
    assert.match((await start(bin)).starting, /"snapshot":true/);
  });

  it('starts no agent as it is built from a default config that reaches outside (a cloud link, here)', {
    timeout: 180_000,
  }, async () => {
    const dir = tmpDir('pitcrew-rehearsal-');
    const bin = copyInstall(path.join(dir, 'install'));
    const broker = net.createServer((s) => s.destroy());
    let connections = 0;
    broker.on('connection', () => connections++);
    broker.listen(0, '127.0.0.1');
    await once(broker, 'listening');
    after(() => broker.close());
    const config = path.join(path.dirname(bin), '../config/pitcrew.yaml');
    const { port } = broker.address() as net.AddressInfo;
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('url: ${env:PITCREW_MQTT_URL:-}', `url: mqtt://127.0.0.1:${port}`),
    );
    assert.match(readFileSync(config, 'utf8'), new RegExp(`127\\.0\\.0\\.1:${port}`));
    const said = await buildsIn(bin, env);
    assert.equal(connections, 0);
    assert.ok(
      said.includes(`; ${config} loaded, its agent not started: cloud.mqtt.url reaches outside`),
      said,
    );
  });

  it('holds nothing of the process that built it: the home directory is the running one', () => {
    const home = tmpDir('pitcrew-home-');
    const r = spawnSync(path.join(ROOT, 'bin/pitcrew.js'), ['fleet', 'rollouts', '--help'], {
      env: { ...env, HOME: home },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(`${home}/.local/state/pitcrew/fleet.db`), r.stdout);
  });

  it('loaded the default config as it was built, and keeps nothing of it: a start reads its own environment', async () => {
    const dir = tmpDir('pitcrew-env-');
    const { run, starting } = await start(
      path.join(ROOT, 'bin/pitcrew.js'),
      {
        PITCREW_UNIT_ID: 'van-env-7',
        PITCREW_DATA_DIR: path.join(dir, 'var'),
        PITCREW_CONTROL_SOCKET: path.join(dir, 'ctl.sock'),
      },
      '',
      { config: path.join(ROOT, 'config/pitcrew.yaml'), ready: 'vehicle/' },
    );
    assert.match(starting, /"snapshot":true/);
    assert.match(starting, /"unit":"van-env-7"/);
    assert.ok(starting.includes(`"data_dir":"${path.join(dir, 'var')}"`), starting);
    await stop(run);
  });

  it('runs where code generation is disallowed: nothing in it decided otherwise when it was built', () => {
    const strict = { ...env, NODE_OPTIONS: '--disallow-code-generation-from-strings' };
    const bin = (...args: string[]) =>
      spawnSync(path.join(ROOT, 'bin/pitcrew.js'), args, { cwd: ROOT, env: strict, encoding: 'utf8' });
    // The config's schemas parse without generated code.
    const validate = bin('validate');
    assert.equal(validate.status, 0, validate.stderr);
    assert.match(validate.stdout, /config\/pitcrew\.yaml: ok/);
    // A condition is compiled as closures.
    const logic = bin(
      'logic',
      '{"and": [{">": [{"var": "rpm"}, 3000]}, {"in": [{"var": "gear"}, [4, 5]]}]}',
      '{"rpm": 3500, "gear": 5}',
    );
    assert.equal(logic.status, 0, logic.stderr);
    assert.equal(logic.stdout, 'true\n');
  });

  it('runs an agent where code generation is disallowed, from the snapshot and without it', async () => {
    // The databases' rows are read without generated code too: the second start reads the first's.
    const config = agentConfig();
    for (const PITCREW_SNAPSHOT of ['on', 'off', 'on']) {
      const { run, starting } = await start(
        path.join(ROOT, 'bin/pitcrew.js'),
        { NODE_OPTIONS: '--disallow-code-generation-from-strings', PITCREW_SNAPSHOT },
        '',
        { config },
      );
      assert.match(starting, PITCREW_SNAPSHOT === 'on' ? /"snapshot":true/ : /"snapshot":false/);
      assert.match(starting, /"conditions":"closures"/);
      await stop(run);
    }
  });

  it('is not used for an agent whose services run in worker threads, which Node cannot start from it', async () => {
    // The same process (execve) starts again without the snapshot, before anything of the agent started.
    const { run, starting } = await start(
      path.join(ROOT, 'bin/pitcrew.js'),
      {},
      moduleService('net', 'networked.mjs', 'ping', 'thread'),
    );
    assert.match(starting, /"snapshot":false/);
    assert.match(run.stderr(), /net run in worker threads: starting without the startup snapshot/);
    // Nothing of the blob's is passed on: without it, node would keep its built-in (everyone's) seed.
    assert.deepEqual(
      nodeFlags(run.child.pid!).filter((f) => /snapshot/.test(f)),
      [],
    );
    // A thread that connects, spawns and loads node:v8 (each of which aborts a snapshot-started process).
    await run.waitFor((l) => l.includes('"tag":"vehicle/net/ping"') && l.includes('"pong"'));
    await stop(run);
  });

  it('a thread a module starts later: the agent stops, and starts again without the snapshot', async () => {
    const { run } = await start(
      path.join(ROOT, 'bin/pitcrew.js'),
      {},
      moduleService('own', 'own-thread.mjs', 'double'),
    );
    await run.waitFor(
      (l) => l.includes('a worker thread is needed') && l.includes('stopping'),
      20_000,
      'stderr',
    );
    await run.waitFor(
      (l) => l.includes('"msg":"starting"') && l.includes('"snapshot":false'),
      20_000,
      'stderr',
    );
    await run.waitFor((l) => l.includes('"tag":"vehicle/own/double"') && l.includes('"value":42'));
    await stop(run);
    assert.match(
      run.stderr(),
      /service own failed: worker threads cannot start in an agent started from the startup snapshot/,
    );
  });

  it('is not handed to another node, nor used from another directory, and is built again for this one', {
    timeout: 180_000,
  }, async () => {
    const dir = tmpDir('pitcrew-install-');
    const bin = copyInstall(path.join(dir, 'a'));
    // A stamp of another node binary (same directory): the command starts without the snapshot.
    const stamp = stampFile(bin);
    writeFileSync(stamp, `${path.dirname(path.dirname(stamp))} 1:2:3:4\n`);
    const other = await start(bin);
    assert.match(other.starting, /"snapshot":false/);
    // It builds one for its own node, for the next start.
    await other.run.waitFor((l) => l.includes('startup snapshot built'), 120_000, 'stderr');
    await stop(other.run);
    assert.match((await start(bin)).starting, /"snapshot":true/);

    // The install moved: the snapshot holds the old paths, and is not used from the new one.
    renameSync(path.join(dir, 'a'), path.join(dir, 'b'));
    const moved = path.join(dir, 'b/bin/pitcrew.js');
    const { run, starting } = await start(moved);
    assert.match(starting, /"snapshot":false/);
    await run.waitFor((l) => l.includes('startup snapshot built'), 120_000, 'stderr');
    await stop(run);
    assert.match((await start(moved)).starting, /"snapshot":true/);
  });

  it('is kept where PITCREW_SNAPSHOT_DIR says (a service may write there, not into its install)', {
    timeout: 180_000,
  }, async () => {
    const dir = path.join(tmpDir('pitcrew-cache-'), 'snapshot');
    const bin = path.join(ROOT, 'bin/pitcrew.js');
    const installed = readFileSync(stampFile(bin), 'utf8');
    const first = await start(bin, { PITCREW_SNAPSHOT_DIR: dir });
    assert.match(first.starting, /"snapshot":false/);
    await first.run.waitFor(
      (l) => l.includes(`startup snapshot built (${dir}/pitcrew.blob; a start of `),
      120_000,
      'stderr',
    );
    await stop(first.run);
    assert.match((await start(bin, { PITCREW_SNAPSHOT_DIR: dir })).starting, /"snapshot":true/);
    assert.equal(readFileSync(stampFile(bin), 'utf8'), installed, "the install's own snapshot is untouched");
  });

  it('is on the disk before it is named, and named before its stamp says it is there (a power cut never leaves node a blob cut short)', () => {
    const dir = path.join(tmpDir('pitcrew-cache-'), 'snapshot');
    const trace = path.join(path.dirname(dir), 'trace');
    const calls = 'trace=fsync,fdatasync,rename,renameat,renameat2';
    const bin = path.join(ROOT, 'bin/pitcrew.js');
    const built = spawnSync('strace', ['-f', '-y', '-e', calls, '-o', trace, bin, 'snapshot'], {
      env: { ...env, PITCREW_SNAPSHOT_DIR: dir },
      encoding: 'utf8',
    });
    assert.equal(built.status, 0, built.stderr);
    const seen = callsIn(readFileSync(trace, 'utf8').split('\n'), dir);
    const at = (call: string) => positionOf(seen, call);
    const named = at('rename pitcrew.blob.building pitcrew.blob');
    assert.ok(at('fsync pitcrew.blob.building') < named);
    const stamped = at('rename stamp.tmp stamp');
    assert.ok(
      seen.slice(named + 1, stamped).includes('fsync .'),
      'the blob named on the disk before the stamp',
    );
    assert.ok(seen.slice(named + 1, stamped).includes('fsync stamp.tmp'));
    assert.equal(seen.at(-1), 'fsync .');
  });

  it('is built by one process at a time: `pitcrew snapshot` says when another build is under way', () => {
    const bin = copyInstall(path.join(tmpDir('pitcrew-install-'), 'a'));
    const lock = path.join(path.dirname(stampFile(bin)), '.building');
    mkdirSync(lock);
    const busy = spawnSync(bin, ['snapshot'], { env, encoding: 'utf8' });
    assert.equal(busy.status, 1);
    assert.match(busy.stderr, /PITCREW_SNAPSHOT_FAILED.*another build is under way/);
    // A build whose process died long ago holds nothing.
    const old = new Date(Date.now() - 3600_000);
    utimesSync(lock, old, old);
    const built = spawnSync(bin, ['snapshot'], { env, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stdout, new RegExp(`built for Node.js ${process.version}`));
    assert.ok(!existsSync(lock));
  });
});
