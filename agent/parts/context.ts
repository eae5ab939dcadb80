/**
 * What a part of the agent (an extension: control socket, rollout, updates, metrics, systemd) is
 * given to work with: the kernel's services, its own config section, and the ports it uses, never
 * the agent itself. The composition root (runtime/) builds each part from the registry with one
 * of these; parts import this file, and nothing of runtime/.
 */
import type { UpdateKindT, WorkerActionT } from '../../schemas/common.js';
import type { CloudStatus } from '../cloud/cloud-link.js';
import type { Section } from '../cloud/status-aggregator.js';
import type { ConfigDiff } from '../config/diff.js';
import type { ConfigMemo } from '../config/memo.js';
import type { ConfigT } from '../config/schema.js';
import type { Bus, Event } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { SignalStore } from '../core/signals.js';
import type { StorageFaults } from '../core/storage.js';
import type { ServiceStatus } from '../core/supervisor.js';
import type { Extension, HandlerOutput } from '../core/types.js';
import type { WorkerStatus } from '../core/worker.js';
import type { RuleSummary } from '../reactor/reactor.js';
import type { Trace } from '../reactor/traces.js';

export interface AgentStatus {
  unit: string;
  uptime: number;
  services: Record<
    string,
    ServiceStatus & { workers: WorkerStatus[]; events_dropped: number; driver?: Record<string, unknown> }
  >;
  signals: number;
  outbox: {
    queued: number;
    bytes: number;
    dropped: number;
    /** Age of the oldest record waiting, ms. */
    oldest_age?: number;
  };
  cloud: CloudStatus;
  storage: Record<string, { failures: number; last: string }>;
  events: number;
  /** The process's memory, MB: resident, V8 heap in use, and outside the heap (buffers, SQLite). */
  memory: { rss: number; heap: number; external: number };
  /** `data_dir`'s free space and the housekeeper's work, when `storage` is configured. */
  disk?: DiskStatus;
  /** Service instances run for the cloud (DESIGN §14), when updates are configured. */
  instances?: InstanceStatus[];
  /** The running config: its version (a digest), and whether the last change was taken or refused. */
  config: {
    version: string;
    status: 'installed' | 'error';
    errorInfo?: { source: string; reasons: string[] };
  };
}

/** The cloud link as a part sees it; without a `cloud` section messages never come and publishing fails. */
export interface CloudPort {
  /** Whether the config has a cloud link (acknowledgements are published only then). */
  readonly configured: boolean;
  /** Hands what arrives on `<prefix>/<topic>` to `fn`. */
  onMessage(topic: string, fn: (payload: Buffer) => void): void;
  /** Queues a message for `<prefix>/<topic>` through the outbox. */
  publish(topic: string, payload: string, qos: 0 | 1 | 2, retain: boolean): Promise<void>;
  /** An item's status (a component, service, layer, instance, the unit config: DESIGN §5) in the unit status. */
  reportItem(section: Section, key: string, fields: Record<string, unknown>): void;
  /** An item that is gone: left out of the full status from now on. */
  dropItem(section: Section, key: string): void;
  /** Drops the outbox's oldest records, at least `bytes` of them (the disk is short of space). */
  shed(bytes: number): { dropped: number; freed: number };
}

/** The running config, for the parts that change it (reload, git, bundles). */
export interface ConfigPort {
  readonly current: ConfigT;
  /** Applies a validated config: services whose section changed restart, the rule set is swapped. */
  apply(next: ConfigT): Promise<ConfigDiff>;
  /** A change was refused; `shared` is what may leave the unit (see Agent.rejected). */
  rejected(source: string, reasons: string[], shared?: string[]): void;
  /** A config failed its health check and was replaced by the previous one. */
  reverted(reason: string, failed: ConfigT): void;
}

/** What an operator does to a running agent (the control socket). */
export interface OperatorPort {
  worker(service: string, name: string, action: WorkerActionT): Promise<WorkerStatus>;
  call(
    service: string,
    handler: string,
    args?: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<HandlerOutput>;
  emit(tag: string, data?: Record<string, unknown>): Event;
  rules(): RuleSummary[];
  traces(rule: string): Trace[];
}

/** Where config changes come from (the file, or git), as `pitcrew rollout status|pull` sees it. */
export interface RolloutControl {
  status(): unknown;
  /** Fetches (git) or reloads (the file) now. */
  pull(): Promise<void>;
}

/** A service instance as `pitcrew status` shows it (DESIGN §14). */
export interface InstanceStatus {
  serviceId: string;
  subjectId: string;
  instance: number;
  version: string;
  status: 'activating' | 'active' | 'inactive' | 'failed';
  error?: { message: string; code?: string | undefined; exitCode?: number | undefined };
}

/** The update manager as `pitcrew update`, the gRPC API and the `update` action see it (DESIGN §7). */
export interface UpdateControl {
  status(): unknown;
  /** The service instances it runs. */
  instanceStatus(): InstanceStatus[];
  /** Whether an update is installing now (power's `inhibit` reads it). */
  installing(): boolean;
  /** The download file names (digests) the current and pending updates still want. */
  downloadsInUse(): string[];
  /** Starts a ready update now (PITCREW_UPDATE_STATE when it is not ready). */
  startUpdate(kind: UpdateKindT): void;
  cancel(kind: UpdateKindT): void;
}

/** `data_dir`'s filesystem and what the housekeeper did (DESIGN §13). */
export interface DiskStatus {
  free: number;
  total: number;
  /** The free space it keeps, bytes. */
  floor: number;
  low: boolean;
  /** What it deleted since the agent started. */
  cleaned: { files: number; bytes: number; records: number };
  /** When it last looked. */
  last?: number;
}

/** The housekeeper as `pitcrew status` sees it. */
export interface StorageControl {
  status(): DiskStatus;
}

/** `pitcrew power status` (DESIGN §13). */
export interface PowerStatus {
  /** `logind`, or `unavailable: <why>`. */
  control: string;
  voltage: { volts: number; age_ms: number } | null;
  /** The most severe action waiting for its hold, and why. */
  next: { action: string; in_ms: number; reason: string } | null;
  inhibited: boolean;
  /** Whether the agent holds its delay lock. */
  lock: boolean;
  inhibitors: { what: string; who: string; why: string; mode: string }[];
  last_action: { action: string; reason: string; at: number } | null;
  last_sleep: number | null;
  last_wake: { at: number; slept_ms: number } | null;
}

/** The power section as `pitcrew power status` sees it. */
export interface PowerControl {
  status(): Promise<PowerStatus>;
}

/** What became of a config: applied (health pending, if configured), or rejected and why. */
export interface Outcome {
  ok: boolean;
  reasons: string[];
  /** The reasons as they may leave the unit (a checkout's: positions only). */
  shared: string[];
}

/** What runs in place of the config file when it reloads: a file, and what that file may read. */
export type Instead = () => Promise<{ file: string; within?: string } | undefined>;

/** The bundle receiver as the housekeeper sees it. */
export interface BundleControl {
  /** The directories of the bundles that run or may run again: the kept one, and the one a revert returns to. */
  inUse(): string[];
}

/** The reloader as the other config sources (git, bundles) use it. */
export interface ReloaderPort {
  /** The config file the agent was started with: what runs, unless git runs a commit's config instead. */
  readonly configFile: string;
  /** Reloads the config file (SIGHUP); resolves whether its config now runs. */
  reload(source: string): Promise<boolean>;
  /**
   * What a reload of the config file applies instead, when `instead` gives one: the git checkout's
   * config (`within` it), which would otherwise be gone at the file's next change. One source sets it.
   */
  runInstead(instead: Instead): void;
  /**
   * The bundle laid over every config applied, the config file's or a commit's (its directory, when
   * there is one): its rules and services go over theirs. One source sets it.
   */
  layOver(bundle: () => string | undefined): void;
  /**
   * Loads, checks and applies a config file (the config file: what runs instead, if anything), with
   * the bundle laid over it (`bundle`: this one, not the kept one), one at a time; `within` bounds
   * what the file may read.
   */
  applyFile(source: string, file: string, within?: string, bundle?: string): Promise<Outcome>;
  onReverted(fn: (reason: string, source: string) => void): void;
  /** Told when a config from `source` passed its health check (only with `rollout.health`). */
  onHealthy(fn: (source: string) => void): void;
}

/** What parts provide to one another: each is provided by one part and used by those that need it. */
export interface Ports {
  reloader?: ReloaderPort;
  rollout?: RolloutControl;
  bundles?: BundleControl;
  updates?: UpdateControl;
  power?: PowerControl;
  storage?: StorageControl;
}
export type PortName = keyof Ports;

/** Where the running config came from: its file, the files it is made of, and its data as written. */
export interface ConfigOrigin {
  file: string;
  files: string[];
  raw: unknown;
  /** The file that runs in place of `file` (a git commit's config), a kept bundle laid over it or not. */
  loaded?: string;
  /** What loading it parsed and checked: the first reload redoes only what changed. */
  memo?: ConfigMemo;
}

export interface PartContext<S> {
  /** The part's own config section. */
  section: S;
  bus: Bus;
  clock: Clock;
  log: Logger;
  dataDir: string;
  unit: { id: string; timezone?: string };
  signals: SignalStore;
  env: NodeJS.ProcessEnv;
  origin: ConfigOrigin;
  status(): AgentStatus;
  /** Writes what must not be lost to disk now (the outbox's pending group, the state): before a sleep or power-off. */
  flush(): Promise<void>;
  /** Says what went wrong with a part's files as the agent's own are said: a damaged database moved aside, a failed write. */
  storage: Pick<StorageFaults, 'damaged' | 'report'>;
  cloud: CloudPort;
  config: ConfigPort;
  operator: OperatorPort;
  /** What other parts provide; read when used, so a part may start before its provider. */
  ports: Readonly<Ports>;
}

/** A part of the agent: started after the services, stopped before them. */
export interface Part extends Extension {
  /** The ports this part provides to the others. */
  readonly provides?: Partial<Ports>;
}
