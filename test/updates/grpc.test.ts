import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { ROOT } from '../helpers/cli.js';
import { desired, FLASH, updateAgent } from '../helpers/update-agent.js';
import { waitFor } from '../helpers/wait.js';

type Note = {
  sota_status?: { state: string; install_services: unknown[] };
  fota_status?: { state: string; error?: { message: string } };
  SchedulerNotification: string;
};
type Client = grpc.Client & {
  SubscribeNotifications(req: object): grpc.ClientReadableStream<Note>;
  StartFOTAUpdate(req: object, cb: (e: grpc.ServiceError | null) => void): void;
  StartSOTAUpdate(req: object, cb: (e: grpc.ServiceError | null) => void): void;
};

/** A client generated from the repository's .proto, as an Aos client is from its own copy. */
function client(address: string): Client {
  const def = loader.loadSync('communicationmanager/v3/updatescheduler.proto', {
    includeDirs: [path.join(ROOT, 'proto')],
    keepCase: true,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    communicationmanager: {
      v3: { UpdateSchedulerService: new (a: string, c: grpc.ChannelCredentials) => Client };
    };
  };
  return new pkg.communicationmanager.v3.UpdateSchedulerService(address, grpc.credentials.createInsecure());
}

const call = (f: (cb: (e: grpc.ServiceError | null) => void) => void) =>
  new Promise<grpc.ServiceError | null>((resolve) => f(resolve));

describe('gRPC update API', () => {
  test('subscribe and start, over TCP and a unix socket (mode 0600)', async () => {
    const u = await updateAgent(
      `grpc: { listen: ["127.0.0.1:0", "unix:update.sock"] }\nfota:\n  installers: [${FLASH}]\nsota:\n  schedule: { type: trigger }\n  installer: { type: directory, root: apps }`,
    );
    const [tcp, unix] = (u.manager.status() as { grpc: string[] }).grpc;
    assert.match(tcp!, /^127\.0\.0\.1:\d+$/);
    assert.equal(unix, `unix:${path.join(u.dir, 'update.sock')}`);
    assert.equal(statSync(unix!.slice(5)).mode & 0o777, 0o600);

    const overTcp = client(tcp!);
    const overUnix = client(unix!);
    const notes: Note[] = [];
    const stream = overTcp.SubscribeNotifications({});
    stream.on('data', (n: Note) => notes.push(n));
    stream.on('error', () => {});
    await waitFor(() => notes.length === 2, 'the initial statuses');
    assert.deepEqual(
      notes.map((n) => `${n.SchedulerNotification} ${n.fota_status?.state ?? n.sota_status?.state}`),
      ['fota_status NO_UPDATE', 'sota_status NO_UPDATE'],
    );

    const nav = u.app('nav', '1.4.0');
    u.send(desired({ services: [nav] }));
    await waitFor(() => notes.some((n) => n.sota_status?.state === 'READY_TO_UPDATE'), 'READY_TO_UPDATE');
    const downloading = notes.find((n) => n.sota_status?.state === 'DOWNLOADING')!;
    assert.deepEqual(downloading.sota_status, {
      state: 'DOWNLOADING',
      install_services: [{ service_id: 'nav', version: '1.4.0' }],
      remove_services: [],
      install_layers: [],
      remove_layers: [],
      rebalance_request: false,
      unit_config: null,
      error: null,
    });

    const refused = await call((cb) => overUnix.StartFOTAUpdate({}, cb));
    assert.equal(refused?.code, grpc.status.FAILED_PRECONDITION);
    assert.match(refused!.details, /it is noUpdate, and start is only possible when it is readyToUpdate/);

    assert.equal(await call((cb) => overUnix.StartSOTAUpdate({}, cb)), null);
    await waitFor(() => notes.at(-1)?.sota_status?.state === 'NO_UPDATE', 'the update to finish');
    assert.deepEqual(
      notes.filter((n) => n.sota_status).map((n) => n.sota_status!.state),
      ['NO_UPDATE', 'DOWNLOADING', 'READY_TO_UPDATE', 'UPDATING', 'NO_UPDATE'],
    );
    const again = await call((cb) => overTcp.StartSOTAUpdate({}, cb));
    assert.equal(again?.code, grpc.status.FAILED_PRECONDITION);

    // A subscriber that comes later gets the current statuses first.
    const late: Note[] = [];
    const s2 = overUnix.SubscribeNotifications({});
    s2.on('data', (n: Note) => late.push(n));
    s2.on('error', () => {});
    await waitFor(() => late.length === 2, 'the late subscriber');
    assert.equal(late[1]!.sota_status!.state, 'NO_UPDATE');
    stream.cancel();
    s2.cancel();
    overTcp.close();
    overUnix.close();
  });
});
