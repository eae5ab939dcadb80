/**
 * Service instances and the unit config (DESIGN §14) through the installed command, a real broker
 * and a real HTTP server: instances of a `pitcrew-service.yaml` service and of an OCI image layout
 * run as real processes, one killed comes back, a version whose every instance fails is reverted,
 * an instance set emptied stops them all, and the unit config goes through its installer.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { UnitStatusT } from '../../schemas/wire.js';
import { runBin } from '../helpers/cli.js';
import { desiredUnit, tagged } from '../helpers/desired-unit.js';
import { tarGz } from '../helpers/updates.js';
import { waitFor } from '../helpers/wait.js';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Writes its pid where the test finds it, says who it is, then waits (or exits `code`). */
const script = (code?: number) =>
  `echo $$ > "$PIDS/$PITCREW_SERVICE-$PITCREW_SUBJECT-$PITCREW_INSTANCE.pid"
echo "up as $PITCREW_SERVICE $PITCREW_SUBJECT $PITCREW_INSTANCE"
${code === undefined ? 'exec sleep 600' : `exit ${code}`}
`;

/** A service as a `pitcrew-service.yaml` directory. */
const plain = (pids: string, code?: number) =>
  tarGz([
    { name: 'pitcrew-service.yaml', body: `run: [sh, run.sh]\nenv: { PIDS: "${pids}" }\n` },
    { name: 'run.sh', body: script(code) },
  ]);

/** A service as an OCI image layout: index → manifest → config and one gzip layer with `/app/run.sh`. */
function oci(pids: string): Buffer {
  const layer = tarGz([{ name: 'app/run.sh', body: script() }]);
  const config = JSON.stringify({
    config: { Entrypoint: ['/bin/sh', 'run.sh'], Env: [`PIDS=${pids}`], WorkingDir: '/app' },
  });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    config: { digest: `sha256:${sha256(config)}` },
    layers: [{ digest: `sha256:${sha256(layer)}` }],
  });
  const index = JSON.stringify({ schemaVersion: 2, manifests: [{ digest: `sha256:${sha256(manifest)}` }] });
  return tarGz([
    { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', body: index },
    { name: `blobs/sha256/${sha256(manifest)}`, body: manifest },
    { name: `blobs/sha256/${sha256(config)}`, body: config },
    { name: `blobs/sha256/${sha256(layer)}`, body: layer },
  ]);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('service instances and unit config (Aos)', () => {
  it('runs, restarts, reverts and stops instances; applies the unit config', async () => {
    const { http, dir, agent, statuses, push, sign, file } = await desiredUnit(
      'aos-2',
      (d) => `sota: { schedule: { type: force }, installer: { type: directory, root: apps } }
unit_config:
  installer: { command: [cp, "{{ file }}", "${d}/applied.json"], timeout: 10s }
instances: { restart: { delay: 100ms, max_delay: 200ms }, stop_timeout: 2s }`,
      { window: '20ms' },
    );
    const pids = path.join(dir, 'pids');
    mkdirSync(pids);
    const pidOf = (name: string) => Number(readFileSync(path.join(pids, `${name}.pid`), 'utf8'));
    const artifact = (name: string, body: Buffer) => {
      http.serve(name, body);
      return { urls: [`${http.base}/${name}`], sha256: sha256(body), size: body.length };
    };
    const s1v1 = { id: 's1', version: '1.0', ...artifact('s1-1.tgz', plain(pids)) };
    const s2 = { id: 's2', version: '1.0', ...artifact('s2.tgz', oci(pids)) };
    const instances = [
      { serviceId: 's1', subjectId: 'subj1', priority: 0, numInstances: 2, labels: [] },
      { serviceId: 's2', subjectId: 'subj2', priority: 0, numInstances: 1, labels: null },
    ];
    const unitConfig = { formatVersion: 1, version: '1.0.0', nodes: [{ nodeType: 'main', priority: 1 }] };
    const latest = (key: (i: NonNullable<UnitStatusT['instances']>[number]) => boolean) =>
      statuses
        .flatMap((m) => m.instances ?? [])
        .filter(key)
        .at(-1);
    const instanceState = (service: string, subject: string, n: number) =>
      latest((i) => i.serviceId === service && i.subjectId === subject && i.instance === n);

    const ack = await push(
      await sign({
        messageType: 'desiredStatus',
        sequence: 1,
        unitConfig,
        services: [s1v1, s2],
        instances,
      }),
    );
    assert.equal(ack.status, 'accepted', JSON.stringify(ack));
    assert.equal(ack.ignored, undefined, 'instances and the unit config are acted on');
    await waitFor(
      () =>
        [0, 1].every((n) => instanceState('s1', 'subj1', n)?.status === 'active') &&
        instanceState('s2', 'subj2', 0)?.status === 'active',
      'three instances active',
      () => agent.stderr(),
    );
    assert.equal(instanceState('s1', 'subj1', 0)!.version, '1.0');
    assert.equal(instanceState('s1', 'subj1', 0)!.nodeId, 'aos-2');
    assert.deepEqual(readdirSync(pids).sort(), ['s1-subj1-0.pid', 's1-subj1-1.pid', 's2-subj2-0.pid']);
    // An instance's output is in the agent's log (stderr: a pipe of its own, read as it comes).
    await agent.waitFor((l) => l.includes('up as s2 subj2 0'), 20_000, 'stderr');
    // The unit config went through its installer, and is reported as Aos reads it.
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'applied.json'), 'utf8')), unitConfig);
    assert.ok(existsSync(path.join(dir, 'var/unit-config/1.0.0.json')), 'kept in data_dir');
    await waitFor(
      () =>
        statuses.some((m) => m.unitConfig?.some((c) => c.version === '1.0.0' && c.status === 'installed')),
      'the unit config installed in the unit status',
    );
    const shown = JSON.parse((await runBin(['status', '-c', file])).stdout) as { instances: unknown[] };
    assert.deepEqual(
      shown.instances.map((i) => (i as { status: string }).status),
      ['active', 'active', 'active'],
      'pitcrew status shows them',
    );

    // Killed: reported failed with its exit code, then back up.
    const victim = pidOf('s1-subj1-1');
    process.kill(victim, 'SIGKILL');
    await waitFor(
      () =>
        statuses
          .flatMap((m) => m.instances ?? [])
          .some((i) => i.status === 'failed' && i.errorInfo?.exitCode === 137),
      'the killed instance failed with 137',
    );
    await waitFor(
      () => instanceState('s1', 'subj1', 1)?.status === 'active' && pidOf('s1-subj1-1') !== victim,
      'restarted',
    );

    // A version whose every instance fails before it is up is reverted; the old one runs again.
    const s1v2 = { id: 's1', version: '2.0', ...artifact('s1-2.tgz', plain(pids, 3)) };
    await push(
      await sign({ messageType: 'desiredStatus', sequence: 2, unitConfig, services: [s1v2, s2], instances }),
    );
    const reverted = await agent.waitFor(tagged('system/update/sota/reverted'));
    assert.deepEqual(JSON.parse(reverted).data, { service: 's1', failed: '2.0', to: '1.0' });
    await waitFor(
      () =>
        statuses.some((m) =>
          m.services?.some(
            (s) =>
              s.id === 's1' && s.version === '2.0' && s.status === 'error' && s.errorInfo?.exitCode === 3,
          ),
        ) &&
        statuses.some((m) =>
          m.services?.some((s) => s.id === 's1' && s.version === '1.0' && s.status === 'installed'),
        ),
      's1 2.0 error (exit code 3), 1.0 installed again',
    );
    await waitFor(
      () =>
        [0, 1].every(
          (n) =>
            instanceState('s1', 'subj1', n)?.status === 'active' &&
            instanceState('s1', 'subj1', n)?.version === '1.0',
        ),
      's1 1.0 instances active again',
      () => agent.stderr(),
    );
    assert.equal(readFileSync(path.join(dir, 'apps/services/s1/current/run.sh'), 'utf8'), script());

    // An empty instance set stops them all; the processes are gone.
    const running = ['s1-subj1-0', 's1-subj1-1', 's2-subj2-0'].map(pidOf);
    assert.ok(running.every(alive));
    /** s1 1.0 and s2, with these instances. */
    const desire = async (sequence: number, wanted: typeof instances, config = unitConfig) =>
      push(
        await sign({
          messageType: 'desiredStatus',
          sequence,
          unitConfig: config,
          services: [s1v1, s2],
          instances: wanted,
        }),
      );
    await desire(3, []);
    await waitFor(() => running.every((p) => !alive(p)), 'every instance stopped');
    const full = (await runBin(['update', 'status', '-c', file])).stdout;
    assert.deepEqual(JSON.parse(full).instances, []);

    // A desired status that changes only the unit config installs just that.
    const next = { ...unitConfig, version: '1.1.0' };
    await desire(4, [], next);
    await waitFor(
      () => JSON.parse(readFileSync(path.join(dir, 'applied.json'), 'utf8')).version === '1.1.0',
      'unit config 1.1.0 applied',
      () => agent.stderr(),
    );
    assert.deepEqual(readdirSync(path.join(dir, 'var/unit-config')).sort(), [
      '1.0.0.json',
      '1.1.0.json',
      'current.json',
    ]);

    // A service removed has its instances stopped first; the agent's shutdown stops the rest.
    await desire(5, instances, next);
    const again = () => ['s1-subj1-0', 's1-subj1-1', 's2-subj2-0'].map(pidOf);
    await waitFor(() => again().every((p) => alive(p) && !running.includes(p)), 'all three run again');
    const [a, b, last] = again() as [number, number, number];
    await push(
      await sign({ messageType: 'desiredStatus', sequence: 6, unitConfig: next, services: [s2], instances }),
    );
    await waitFor(
      () => !existsSync(path.join(dir, 'apps/services/s1')),
      's1 removed',
      () => agent.stderr(),
    );
    assert.equal(alive(a) || alive(b), false, "s1's instances stopped");
    assert.equal(alive(last), true, 's2 runs on');
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
    assert.equal(alive(last), false, 'no instance outlives the agent');
  });
});
