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

function define<A extends unknown[]>(code: string, message: (...args: A) => string): Make<A> {
  return Object.assign((...args: A) => new PitcrewError(code, message(...args)), { code });
}

/** What to do about an adapter's status line (ELM327 datasheet, error messages). */
const OBD_HINTS: Record<string, string> = {
  'NO DATA': ': no ECU answered (engine off, or the PID is not supported)',
  'UNABLE TO CONNECT': ": no OBD protocol found (ignition off, or set the driver's protocol)",
  'BUFFER FULL': ': the adapter overflowed (raise the baud rate)',
  'CAN ERROR': ': the adapter cannot talk on the CAN bus (wiring, or the wrong protocol)',
  STOPPED: ': the request was interrupted by a byte sent while the adapter was busy',
  '?': ': the adapter did not understand the command',
  'WRONG REPLY': ': the answer is for another request',
  'NEGATIVE RESPONSE': ': the ECU refused the request (not supported in this mode)',
  INCOMPLETE: ': a multi-frame answer stopped short',
  GARBAGE: ': not an ELM327 reply (wrong baud rate, or line noise)',
};

const list = (names: readonly string[]) => names.join(', ') || 'none';

export const errors = {
  CONFIG_INVALID: define('PITCREW_CONFIG_INVALID', (summary: string) => summary),
  LOGIC_INVALID: define('PITCREW_LOGIC_INVALID', (why: string) => why),
  TEMPLATE_INVALID: define('PITCREW_TEMPLATE_INVALID', (why: string) => why),
  TEMPLATE_MISSING: define(
    'PITCREW_TEMPLATE_MISSING',
    (path: string) => `'${path}' is not set; check the template's path or guard the action with 'if'`,
  ),
  PATTERN_INVALID: define('PITCREW_PATTERN_INVALID', (why: string) => why),
  DRIVER_ERROR: define('PITCREW_DRIVER_ERROR', (why: string) => why),
  DRIVER_UNAVAILABLE: define(
    'PITCREW_DRIVER_UNAVAILABLE',
    (driver: string) =>
      `driver '${driver}' is not available in this build of pitcrew yet; use sim-vehicle or a module service`,
  ),
  MODULE_INVALID: define(
    'PITCREW_MODULE_INVALID',
    (file: string) =>
      `${file} does not export createService(settings, ctx); see the README's "Module services"`,
  ),
  MODULE_SETTINGS: define(
    'PITCREW_MODULE_SETTINGS',
    (file: string, why: string) => `settings rejected by ${file}: ${why}`,
  ),
  MODULE_EXPORT: define(
    'PITCREW_MODULE_EXPORT',
    (file: string, name: string) => `${file} has no exported function '${name}'`,
  ),
  HOOK_UNKNOWN: define(
    'PITCREW_HOOK_UNKNOWN',
    (kind: string, name: string, hint: string) => `unknown ${kind} '${name}'${hint}`,
  ),
  HOOK_KIND: define(
    'PITCREW_HOOK_KIND',
    (name: string, is: string, wanted: string) => `'${name}' is a ${is}, not a ${wanted}`,
  ),
  HANDLER_UNKNOWN: define(
    'PITCREW_HANDLER_UNKNOWN',
    (service: string, handler: string, known: readonly string[]) =>
      `service '${service}' has no handler '${handler}' (handlers: ${list(known)})`,
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
  RULE_UNKNOWN: define(
    'PITCREW_RULE_UNKNOWN',
    (rule: string, known: readonly string[]) => `no rule '${rule}' (rules: ${list(known)})`,
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
  RETURN_INVALID: define(
    'PITCREW_RETURN_INVALID',
    () => "return data needs a 'type' (lowercase name) and a 'value'",
  ),
  EXEC_FAILED: define('PITCREW_EXEC_FAILED', (cmd: string, why: string) => `${cmd}: ${why}`),
  EXEC_TIMEOUT: define(
    'PITCREW_EXEC_TIMEOUT',
    (cmd: string, ms: number) => `${cmd}: timed out after ${ms} ms (raise exec.timeout if it needs longer)`,
  ),
  DRY_RUN: define('PITCREW_DRY_RUN', () => 'not run in a dry run'),
  REPLAY_LINE: define('PITCREW_REPLAY_LINE', (why: string) => why),
  CONTROL_REQUEST: define('PITCREW_CONTROL_REQUEST', (why: string) => `bad request: ${why}`),
  CONTROL_ANSWER: define(
    'PITCREW_CONTROL_ANSWER',
    (why: string) => `the answer cannot be sent as JSON: ${why}`,
  ),
  SOCKET_PATH: define(
    'PITCREW_SOCKET_PATH',
    (file: string, why: string) => `cannot listen on ${file}: ${why}; choose another path for it`,
  ),
  CONTROL_UNREACHABLE: define(
    'PITCREW_CONTROL_UNREACHABLE',
    (socket: string, why: string) => `cannot reach the agent at ${socket}: ${why}`,
  ),
  CONTROL_TIMEOUT: define(
    'PITCREW_CONTROL_TIMEOUT',
    (socket: string, ms: number) => `no answer from ${socket} within ${ms} ms`,
  ),
  CLI_ARG: define('PITCREW_CLI_ARG', (why: string) => why),
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
  THREAD_HUNG: define(
    'PITCREW_THREAD_HUNG',
    (service: string, ms: number) =>
      `service ${service}: its thread did not answer for ${ms} ms and was ended (a busy loop?); it restarts`,
  ),
  THREAD_EXITED: define(
    'PITCREW_THREAD_EXITED',
    (service: string, code: number) => `service ${service}: its thread exited (code ${code}); it restarts`,
  ),
  RUN_CANCELLED: define(
    'PITCREW_RUN_CANCELLED',
    (rule: string) => `run of ${rule} cancelled (mode: restart)`,
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
  OBD_REPLY: define(
    'PITCREW_OBD_REPLY',
    (command: string, status: string, raw: string) =>
      `${command}: the adapter answered ${status}${OBD_HINTS[status] ?? ''} (raw ${JSON.stringify(raw)})`,
  ),
  OBD_TIMEOUT: define(
    'PITCREW_OBD_TIMEOUT',
    (command: string, ms: number, raw: string) =>
      `${command}: no prompt from the adapter within ${ms} ms (raw ${JSON.stringify(raw)}); raise the driver's 'timeout' if the car is slow to answer`,
  ),
  OBD_UNSUPPORTED: define(
    'PITCREW_OBD_UNSUPPORTED',
    (pid: string, supported: string) =>
      `${pid} is not supported by this vehicle (it reports ${supported}); remove the query or pick another PID`,
  ),
  OBD_NOT_READY: define(
    'PITCREW_OBD_NOT_READY',
    (port: string, state: string) =>
      `the adapter on ${port} is not set up yet (${state}); requests wait for it up to the driver's 'timeout'`,
  ),
  SERIAL_CLOSED: define(
    'PITCREW_SERIAL_CLOSED',
    (port: string, why: string) => `${port} is not open (${why}); the driver keeps trying to reopen it`,
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
  SIGNATURE: define('PITCREW_SIGNATURE', (why: string) => `rejected: ${why}`),
  BUNDLE_VERSION: define(
    'PITCREW_BUNDLE_VERSION',
    (version: number, applied: number) =>
      `bundle version ${version} is not newer than the applied ${applied}: a replay or a downgrade, refused`,
  ),
  DESIRED_STATUS: define('PITCREW_DESIRED_STATUS', (why: string) => `desired status rejected: ${why}`),
  UPDATE_STATE: define(
    'PITCREW_UPDATE_STATE',
    (kind: string, action: string, state: string, when: string) =>
      `cannot ${action} the ${kind} update: it is ${state}, and ${action} is only possible when it is ${when}`,
  ),
  UPDATE_OFF: define(
    'PITCREW_UPDATE_OFF',
    (kind: string) => `updates.${kind} is not configured: add it to the config to take ${kind} updates`,
  ),
  UPDATE_HTTP: define(
    'PITCREW_UPDATE_HTTP',
    (url: string, why: string) => `download of ${url} failed: ${why}`,
  ),
  UPDATE_VERIFY: define(
    'PITCREW_UPDATE_VERIFY',
    (id: string, why: string) =>
      `download of ${id} does not verify (${why}); it was deleted and is fetched again`,
  ),
  UPDATE_GAVE_UP: define(
    'PITCREW_UPDATE_GAVE_UP',
    (id: string, why: string) =>
      `download of ${id} gave up ${why}: the item failed (check its URLs; raise updates.download.retry to wait longer)`,
  ),
  UPDATE_DISK: define(
    'PITCREW_UPDATE_DISK',
    (dir: string, need: number, free: number) =>
      `${dir} has ${free} bytes free, the download needs ${need}: free space on the unit, then send the desired status again`,
  ),
  UPDATE_INSTALL: define(
    'PITCREW_UPDATE_INSTALL',
    (id: string, why: string) => `installing ${id} failed: ${why}`,
  ),
  UPDATE_ARCHIVE: define(
    'PITCREW_UPDATE_ARCHIVE',
    (entry: string, why: string) =>
      `archive entry '${entry}' ${why}: the archive was rejected, nothing was installed`,
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
