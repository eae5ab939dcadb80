import { existsSync, readFileSync } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Grpc from '@grpc/grpc-js';
import type { UpdateKindT } from '../../schemas/common.js';
import type { UpdatesT } from '../../schemas/updates.js';
import type { Logger } from '../core/logger.js';
import { clearStaleSocket } from '../core/socket-path.js';
import { errors, errorText, isCatalogued } from './errors.js';

/** A SchedulerNotifications message, field names as in the .proto. */
export type Notification = Record<string, unknown>;

/** What the server serves: the current statuses, their changes, and the start of a ready update. */
export interface SchedulerApi {
  notifications(): Notification[];
  subscribe(fn: (n: Notification) => void): () => void;
  start(kind: UpdateKindT): void;
}

const PROTO = 'communicationmanager/v3/updatescheduler.proto';

/** The repository's (or the installed package's) `proto` directory, found from wherever this code runs. */
function protoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'proto', PROTO))) return path.join(dir, 'proto');
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`${PROTO} not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/**
 * The update API for local apps (DESIGN §7.4), wire-compatible with Aos `communicationmanager.v3`
 * clients: `SubscribeNotifications` streams the current FOTA and SOTA statuses, then every change;
 * `StartFOTAUpdate` / `StartSOTAUpdate` start a ready update, else answer FAILED_PRECONDITION. It
 * listens on each `updates.grpc.listen` address; a unix socket gets mode 0600.
 */
export class UpdateGrpcServer {
  private server?: Grpc.Server;
  private readonly streams = new Set<Grpc.ServerWritableStream<unknown, Notification>>();
  /** The addresses bound, ports resolved (`127.0.0.1:0` becomes the port the system chose). */
  readonly bound: string[] = [];

  constructor(
    private readonly config: NonNullable<UpdatesT['grpc']>,
    private readonly api: SchedulerApi,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const require = createRequire(import.meta.url);
    const grpc = require('@grpc/grpc-js') as typeof Grpc;
    const loader = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
    const def = loader.loadSync(PROTO, {
      includeDirs: [protoRoot()],
      keepCase: true,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      communicationmanager: { v3: { UpdateSchedulerService: { service: Grpc.ServiceDefinition } } };
    };
    const server = new grpc.Server();
    const start =
      (kind: UpdateKindT): Grpc.handleUnaryCall<unknown, unknown> =>
      (_call, callback) => {
        try {
          this.api.start(kind);
          callback(null, {});
        } catch (e) {
          const code = isCatalogued(e, errors.UPDATE_STATE)
            ? grpc.status.FAILED_PRECONDITION
            : grpc.status.UNAVAILABLE;
          callback({ code, details: errorText(e) });
        }
      };
    server.addService(pkg.communicationmanager.v3.UpdateSchedulerService.service, {
      StartFOTAUpdate: start('fota'),
      StartSOTAUpdate: start('sota'),
      SubscribeNotifications: (call: Grpc.ServerWritableStream<unknown, Notification>) => {
        for (const n of this.api.notifications()) call.write(n);
        const unsubscribe = this.api.subscribe((n) => call.write(n));
        this.streams.add(call);
        const done = () => {
          unsubscribe();
          this.streams.delete(call);
        };
        call.on('cancelled', done);
        call.on('close', done);
        call.on('error', done);
      },
    });
    const tls = this.config.tls;
    const creds = tls
      ? grpc.ServerCredentials.createSsl(
          tls.ca ? readFileSync(tls.ca) : null,
          [{ cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) }],
          Boolean(tls.ca),
        )
      : grpc.ServerCredentials.createInsecure();
    this.server = server;
    for (const address of this.config.listen) {
      const socket = address.startsWith('unix:') ? address.slice(5) : undefined;
      // Only a stale socket is removed: never a live agent's, a regular file, or the control socket.
      if (socket) await clearStaleSocket(socket);
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(address, creds, (e, p) => (e ? reject(e) : resolve(p))),
      );
      if (socket) await chmod(socket, 0o600);
      this.bound.push(socket ? address : address.replace(/:\d+$/, `:${port}`));
    }
    this.log.info({ listen: this.bound }, 'update API listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Subscribers' streams never end by themselves: ended here, so shutdown need not wait for them.
    for (const call of this.streams) call.end();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 1000);
      server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
    for (const a of this.bound) if (a.startsWith('unix:')) await rm(a.slice(5), { force: true });
  }
}
