/**
 * The agent's own events (DESIGN §4): each `system/…` tag and each built-in `vehicle/…` tag with
 * the payload it carries, written once. The bus checks every emitter and listener of these tags
 * against this map; user tags stay plain strings.
 */

/** What a config change did to one keyed collection (services, rules). */
type NamesDiff = { added: string[]; removed: string[]; changed: string[]; unchanged: string[] };
type Update = 'fota' | 'sota';
type UpdateState = 'noUpdate' | 'downloading' | 'readyToUpdate' | 'updating';

/** Each machine's state, as it changes (DESIGN §7.2). */
type UpdateStates = {
  [K in `system/update/${Update}/${UpdateState}`]: {
    items: { section: string; action: string; id: string; version: string; status: string }[];
    error?: { message: string; code?: string; exitCode?: number };
  };
};

/** The motion and modem drivers' events (DESIGN §13): what happened, and its measure. */
type UnitEvents = {
  [K in `vehicle/motion/${'harsh_braking' | 'harsh_acceleration' | 'harsh_cornering' | 'impact' | 'tow'}`]: {
    service: string;
    ts: number;
    [detail: string]: unknown;
  };
} & {
  [K in `vehicle/modem/${'registered' | 'lost' | 'connected' | 'disconnected' | 'sim_missing'}`]: {
    service: string;
    [detail: string]: unknown;
  };
};

export type BuiltinEvents = UpdateStates &
  UnitEvents & {
    'system/agent/started': { unit: string; services: string[] };
    'system/agent/stopping': { unit: string };
    /** A stray error no service owns, or a service flooding the bus. */
    'system/agent/error': { error: string; code: string; service?: string; dropped?: number };
    'system/agent/stalled': { ms: number };
    'system/reactor/loop': { rule: string; chain: string[]; tag: string };
    'system/storage/error': { file: string; error: string; failures: number };
    [started: `system/service/${string}/started`]: { service: string; restarts: number };
    [failed: `system/service/${string}/failed`]: {
      service: string;
      reason: string;
      code: string;
      restarts: number;
      retry_in: number;
    };
    [stopped: `system/service/${string}/stopped`]: { service: string };
    [failed: `system/worker/${string}/${string}/failed`]: {
      service: string;
      worker: string;
      reason: string;
      code: string;
    };
    [completed: `system/worker/${string}/${string}/completed`]: {
      service: string;
      worker: string;
      iterations: number;
    };
    'system/config/applied': { version: string; services: NamesDiff; rules: NamesDiff };
    'system/config/rejected': { source: string; reasons: string[]; running: string };
    'system/config/reverted': { reason: string; reverted: string; running: string };
    'system/cloud/connected': { broker: string };
    'system/cloud/disconnected': { reason: string };
    'system/outbox/dropped': { dropped: number; total: number; code: string };
    /** Every instance of a newly installed service version failed: the previous one runs again (DESIGN §14). */
    'system/update/sota/reverted': { service: string; failed: string; to: string | null };
    /** Disk housekeeping (DESIGN §13): what was deleted and why; the free space fell below the floor. */
    'system/storage/cleaned': {
      reason: string;
      kinds: Record<string, number>;
      files: number;
      bytes: number;
      records: number;
    };
    'system/storage/low': { free: number; floor: number; dir: string };
    /** Power (DESIGN §13): what the unit is about to do, and why. */
    'system/power/sleeping': { reason: string; voltage?: number };
    'system/power/hibernating': { reason: string; voltage?: number };
    'system/power/shutting_down': { reason: string; voltage?: number };
    'system/power/woke': { slept_ms: number };
    'system/power/inhibited': { action: string; reason: string };
    /** A desired status taken: what each machine did with it (DESIGN §7.1). */
    'system/update/desired': {
      source: string;
      at: number;
      status: 'accepted' | 'rejected';
      reasons: string[];
      held?: number;
      fota?: string;
      sota?: string;
    };
    'system/update/rejected': { source: string; reasons: string[]; held: number };
    'vehicle/obd/connected': {
      service: string;
      adapter: string;
      protocol: number;
      port?: string;
      baudrate?: number;
      firmware?: string;
      ecus?: string[];
    };
    'vehicle/obd/disconnected': { service: string; port?: string; reason?: string };
    'vehicle/gnss/connected': { service: string; port: string };
    'vehicle/gnss/disconnected': { service: string; port: string; reason?: string };
    'vehicle/dtc/new': { service: string; codes: string[]; all: string[] };
    'vehicle/dtc/cleared': { service: string; codes: string[]; all: string[] };
    'vehicle/engine/running': { service: string; rpm: number };
    'vehicle/engine/stopped': { service: string; rpm: number };
    'vehicle/engine/not_running': { service: string; rpm: number };
    [battery: `vehicle/battery/${string}`]: { service: string; volts: number };
    'vehicle/position/fix': { service: string; lat: number; lon: number };
    'vehicle/position/lost': { service: string };
    'vehicle/position/moving': { service: string; lat: number; lon: number; speed?: number };
    'vehicle/position/standstill': { service: string; lat: number; lon: number; speed?: number };
  };

export type BuiltinTag = keyof BuiltinEvents;
