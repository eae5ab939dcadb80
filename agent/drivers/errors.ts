import { define, errors as kernel } from '../core/errors.js';

export * from '../core/errors.js';

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

/** The error catalogue for the drivers (modules, their threads, OBD adapters, serial ports): the kernel's codes and their own. */
export const errors = {
  ...kernel,
  MODULE_INVALID: define(
    'PITCREW_MODULE_INVALID',
    (file: string) =>
      `${file} exports neither a defineService({settings, create}) default nor createService(settings, ctx); see the README's "Module services"`,
  ),
  MODULE_DEPS: define(
    'PITCREW_MODULE_DEPS',
    (file: string, why: string) =>
      `the dependencies of ${file} could not be installed (${why}); the service is retried with its backoff`,
  ),
  MODULE_SETTINGS: define(
    'PITCREW_MODULE_SETTINGS',
    (file: string, why: string) => `settings rejected by ${file}: ${why}`,
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
  MOTION_DEVICE: define(
    'PITCREW_MOTION_DEVICE',
    (device: string, why: string) =>
      `accelerometer ${device} ${why}; the driver keeps trying (check settings.device, and that the agent may read /sys/bus/iio and /dev/iio:*)`,
  ),
  SERIAL_CLOSED: define(
    'PITCREW_SERIAL_CLOSED',
    (port: string, why: string) => `${port} is not open (${why}); the driver keeps trying to reopen it`,
  ),
} as const;
