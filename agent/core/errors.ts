/**
 * The error catalogue: every error pitcrew raises has a stable code (`PITCREW_…`), a message that
 * says what to do, and, where one applies, the config key. The code travels with the error through
 * CLI output, control-socket answers, status, events and traces. It lives in the kernel, which
 * raises catalogued errors too, and imports nothing; `agent/errors.ts` is its public name.
 */
export class PitcrewError extends Error {
  /** The config key the error is about (`services.obd.settings.port`), when there is one. */
  key?: string;

  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'PitcrewError';
  }

  /** Names the config key the error is about. */
  at(key: string): this {
    this.key = key;
    return this;
  }
}

type Make<A extends unknown[]> = ((...args: A) => PitcrewError) & { readonly code: string };

export function define<A extends unknown[]>(code: string, message: (...args: A) => string): Make<A> {
  return Object.assign((...args: A) => new PitcrewError(code, message(...args)), { code });
}

/** Names for a message: `a, b, c`, or `none`. */
export const list = (names: readonly string[]) => names.join(', ') || 'none';

export const errors = {
  CONFIG_INVALID: define('PITCREW_CONFIG_INVALID', (summary: string) => summary),
  TEMPLATE_INVALID: define('PITCREW_TEMPLATE_INVALID', (why: string) => why),
  TEMPLATE_MISSING: define(
    'PITCREW_TEMPLATE_MISSING',
    (path: string) => `'${path}' is not set; check the template's path or guard the action with 'if'`,
  ),
  PATTERN_INVALID: define('PITCREW_PATTERN_INVALID', (why: string) => why),
  DRIVER_ERROR: define('PITCREW_DRIVER_ERROR', (why: string) => why),
  STATE_UNREADABLE: define(
    'PITCREW_STATE_UNREADABLE',
    (file: string, why: string) =>
      `${file} cannot be read (${why}): what it kept is worked out again where it can be, else started afresh`,
  ),
  DRIVER_UNAVAILABLE: define(
    'PITCREW_DRIVER_UNAVAILABLE',
    (driver: string) =>
      `driver '${driver}' is not available in this build of pitcrew yet; use sim-vehicle or a module service`,
  ),
  SERVICE_UNKNOWN: define(
    'PITCREW_SERVICE_UNKNOWN',
    (service: string, known: readonly string[]) => `no service '${service}' (services: ${list(known)})`,
  ),
  SERVICE_NOT_RUNNING: define(
    'PITCREW_SERVICE_NOT_RUNNING',
    (service: string, state: string) => `service '${service}' is ${state}; see 'pitcrew status' for why`,
  ),
  WORKER_UNKNOWN: define(
    'PITCREW_WORKER_UNKNOWN',
    (service: string, worker: string) => `service '${service}' has no worker '${worker}'`,
  ),
  WORKER_KILLED: define(
    'PITCREW_WORKER_KILLED',
    (service: string, worker: string) =>
      `worker ${service}/${worker} was killed while a message was under way`,
  ),
  AGENT_NOT_STARTED: define(
    'PITCREW_AGENT_NOT_STARTED',
    () => 'the agent is not started; call start() first',
  ),
  START_FAILED: define('PITCREW_START_FAILED', (part: string, why: string) => `cannot start ${part}: ${why}`),
  ACTION_UNAVAILABLE: define(
    'PITCREW_ACTION_UNAVAILABLE',
    (action: string, what: string) =>
      `${action} needs ${what}, which this build of pitcrew does not have yet`,
  ),
  SOCKET_PATH: define(
    'PITCREW_SOCKET_PATH',
    (file: string, why: string) => `cannot listen on ${file}: ${why}; choose another path for it`,
  ),
  CLI_ARG: define('PITCREW_CLI_ARG', (why: string) => why),
  SNAPSHOT_FAILED: define(
    'PITCREW_SNAPSHOT_FAILED',
    (why: string) => `cannot build the startup snapshot: ${why}; the command starts without it meanwhile`,
  ),
  SNAPSHOT_THREADS: define(
    'PITCREW_SNAPSHOT_THREADS',
    () =>
      'worker threads cannot start in an agent started from the startup snapshot (a Node.js limitation); the agent starts again without it',
  ),
  RESULT_INVALID: define(
    'PITCREW_RESULT_INVALID',
    (handler: string, type: string) =>
      `handler '${handler}' returned a result with type ${type}: a result needs a 'type' made of letters, digits and _`,
  ),
  MESSAGE_TIMEOUT: define(
    'PITCREW_MESSAGE_TIMEOUT',
    (handler: string, ms: number) =>
      `message '${handler}' did not finish within ${ms} ms (a step never settled; raise the message's 'timeout' if it needs longer)`,
  ),
  STORAGE_OPEN: define(
    'PITCREW_STORAGE_OPEN',
    (file: string, why: string) => `cannot open ${file}: ${why}; check unit.data_dir (space, permissions)`,
  ),
  STORAGE_WRITE: define(
    'PITCREW_STORAGE_WRITE',
    (file: string, why: string) => `cannot write ${file}: ${why}`,
  ),
  STORAGE_DAMAGED: define(
    'PITCREW_STORAGE_DAMAGED',
    (file: string, why: string, movedTo: string) =>
      `${file} is damaged (${why}): moved aside to ${movedTo}, and a new one started without what it held; check the unit's storage card`,
  ),
  STORAGE_READ_ONLY: define(
    'PITCREW_STORAGE_READ_ONLY',
    (dir: string) =>
      `${dir} is on a read-only file system (a failing card is remounted so): the agent runs on with its databases in memory, what it writes lost at a stop, and takes no update it cannot keep; check the unit's storage card`,
  ),
  UPDATES_FLOOR_LOST: define(
    'PITCREW_UPDATES_FLOOR_LOST',
    (file: string, why: string, floor: string) =>
      `${file} is damaged (${why}), and ${floor}, which keeps the last desired status taken beside it, is missing or unreadable: begun again, the unit could not tell a replayed desired status from a new one. Restore ${floor}, or move ${file} aside to begin again and take any signed desired status`,
  ),
  AGENT_LOCKED: define(
    'PITCREW_AGENT_LOCKED',
    (dir: string) =>
      `another pitcrew agent is running on ${dir}; stop it first, or give this one its own unit.data_dir`,
  ),
  FLOOD: define(
    'PITCREW_FLOOD',
    (source: string, dropped: number) =>
      `${source} emits events faster than they can be handled; ${dropped} dropped so far`,
  ),
  STRAY_ERROR: define('PITCREW_STRAY_ERROR', (why: string) => `an error no service owns: ${why}`),
  REACTOR_LOOP: define(
    'PITCREW_REACTOR_LOOP',
    (chain: string, max: number) =>
      `event dropped: rules caused each other more than ${max} times in a row (${chain}); break the loop or raise reactor.max_depth`,
  ),
  STALLED: define(
    'PITCREW_STALLED',
    (ms: number) =>
      `the event loop was blocked for ${ms} ms; a module doing busy work belongs in isolation: thread`,
  ),
  CLOUD_OFFLINE: define(
    'PITCREW_CLOUD_OFFLINE',
    () => 'the cloud link is not connected; the record stays in the outbox and is sent on reconnect',
  ),
  OUTBOX_DROPPED: define(
    'PITCREW_OUTBOX_DROPPED',
    (n: number, total: number) =>
      `outbox full: the ${n} oldest records were dropped (${total} in all); raise cloud.outbox.max_records or max_bytes, or check the link`,
  ),
  CONFIG_RESTART: define(
    'PITCREW_CONFIG_RESTART',
    (sections: readonly string[]) =>
      `${list(sections)} changed, which a running agent does not take on: restart it to apply them (nothing was applied)`,
  ),
  PART_NEEDS: define(
    'PITCREW_PART_NEEDS',
    (part: string, port: string, enabled: readonly string[]) =>
      `${part} needs '${port}', which no part before it provides (enabled, in order: ${list(enabled)}): register a part that provides it ahead of ${part}`,
  ),
  UPDATE_OFF: define(
    'PITCREW_UPDATE_OFF',
    (kind: string) => `updates.${kind} is not configured: add it to the config to take ${kind} updates`,
  ),
  CRON_NEVER: define('PITCREW_CRON_NEVER', (expr: string) => `cron '${expr}' never fires`),
} as const;

/** Whether a thrown value is the catalogued error `make` raises. */
export const isCatalogued = (e: unknown, make: { readonly code: string }): e is PitcrewError =>
  e instanceof PitcrewError && e.code === make.code;

/**
 * The code of any thrown value: a catalogued one's, else the error's own string code (a system
 * error's `ENOENT`, SQLite's `SQLITE_FULL`), else PITCREW_UNCATALOGUED (a module's plain Error).
 */
export function errorCode(e: unknown): string {
  if (e instanceof PitcrewError) return e.code;
  const own = (e as { code?: unknown } | null)?.code;
  return typeof own === 'string' && own ? own : 'PITCREW_UNCATALOGUED';
}

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Any thrown value as an Error (a module may throw a string). */
export const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));
