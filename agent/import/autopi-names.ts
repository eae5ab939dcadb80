/**
 * What AutoPi's services and hooks are called in pitcrew. AutoPi names a hook by its function
 * without the kind (`battery` for `battery_converter`); one of its hooks can be a step of another
 * kind here (its `battery` converter raises the battery events, which pitcrew's `battery_state`
 * trigger does), or two steps (`alternating_value` returns only changes: a `changed` filter and the
 * cloud).
 */
import type { HookKind } from '../../schemas/services.js';

export interface ServiceMap {
  /** The pitcrew service's name. */
  name: string;
  driver: string;
  /** The handler a message without one calls, as AutoPi's manager defaults it. */
  handler?: string;
  /** Said once about the converted service: what to check by hand. */
  note?: string;
}

export const SERVICES: Record<string, ServiceMap> = {
  obd_manager: { name: 'obd', driver: 'elm327', handler: 'query' },
  tracking_manager: {
    name: 'gnss',
    driver: 'nmea',
    handler: 'gnss_query',
    note: "AutoPi asks the modem for the position over its AT port; pitcrew's nmea driver reads the NMEA stream: check that port names the modem's NMEA port",
  },
  gnss_manager: {
    name: 'gnss',
    driver: 'nmea',
    handler: 'gnss_query',
    note: "pitcrew's nmea driver reads the NMEA stream: check that port names the receiver's NMEA port",
  },
  acc_manager: {
    name: 'motion',
    driver: 'motion',
    handler: 'query',
    note: "AutoPi drives the accelerometer over I2C itself; pitcrew reads it through the kernel's IIO driver: check that device names it (cat /sys/bus/iio/devices/*/name)",
  },
  ec2x_manager: {
    name: 'modem',
    driver: 'modem',
    note: 'the modem is read through ModemManager, not its AT port',
  },
  modem_manager: { name: 'modem', driver: 'modem' },
};

/** AutoPi services pitcrew has no service for, and what does their work instead. */
export const NO_SERVICE: Record<string, string> = {
  cloud_manager: "pitcrew's cloud section and its outbox send the data (cloud.mqtt)",
  spm_manager:
    'the power section decides sleep and wake (power), and the power_supply driver reads the battery',
  api_service: "pitcrew's control socket and its commands (pitcrew status, tap, trace) serve local access",
  can_manager:
    'use the can driver with a DBC (driver: can, settings.source: {type: socketcan, interface: can0})',
  audio_manager: 'pitcrew has no audio output',
  ble_manager: 'pitcrew has no Bluetooth service',
  key_fob_manager: 'pitcrew has no key fob service',
  rfid_manager: 'pitcrew has no RFID service',
  crypto_manager: 'signing is the rollout and updates sections (rollout.keys)',
  docker_monitor: 'SOTA service instances replace docker (updates.instances)',
};

/** One pitcrew step: a built-in hook's name, with its kind here. */
export interface Step {
  kind: HookKind;
  use: string;
}

/** A hook pitcrew does by itself: dropped, with why. */
export interface Dropped {
  dropped: string;
}

const step = (kind: HookKind, use: string): Step => ({ kind, use });

export const HOOKS: Record<string, Partial<Record<HookKind, readonly Step[] | Dropped>>> = {
  battery: { converter: [step('trigger', 'battery_state')], trigger: [step('trigger', 'battery_state')] },
  rpm_engine: { trigger: [step('trigger', 'engine_state')] },
  position: { trigger: [step('trigger', 'position_state')] },
  dtc: { converter: { dropped: 'the dtc handler already gives the codes' } },
  alternating_readout: { filter: [step('filter', 'changed')] },
  alternating_dtc: { filter: [step('filter', 'changed')] },
  alternating_cache_event: { filter: [step('filter', 'changed')] },
  significant_position: {
    filter: [step('filter', 'changed')],
    returner: [step('filter', 'changed'), step('returner', 'cloud')],
  },
  alternating_value: { returner: [step('filter', 'changed'), step('returner', 'cloud')] },
  cloud: { returner: [step('returner', 'cloud')] },
  gnss_location_to_position: { converter: { dropped: 'the location handler already gives a position' } },
  nmea0183_readout_to_position: { converter: { dropped: 'the location handler already gives a position' } },
  communication_event: {
    trigger: { dropped: 'the OBD driver raises vehicle/obd/connected and /disconnected itself' },
  },
  motion_event: { trigger: { dropped: 'the motion driver raises vehicle/motion/* events itself' } },
};

/** A pitcrew `trigger` name for AutoPi's `<name>_event` triggers: `rpm_engine_event` is `rpm_engine`. */
export const hookKey = (name: string, kind: HookKind) =>
  kind === 'trigger' && name.endsWith('_event') ? name.slice(0, -'_event'.length) : name;

/** OBD queries AutoPi makes through python-OBD command names that are handlers of their own here. */
export const OBD_COMMANDS: Record<string, string> = {
  ELM_VOLTAGE: 'voltage',
  GET_DTC: 'dtc',
  CLEAR_DTC: 'clear_dtc',
  VIN: 'vin',
};

/** Power functions a reactor calls, as the power action. */
export const POWER_FUNCTIONS: Record<string, 'sleep' | 'hibernate' | 'shutdown'> = {
  'power.sleep': 'sleep',
  'power.hibernate': 'hibernate',
  'system.poweroff': 'shutdown',
  'system.shutdown': 'shutdown',
};

/** Functions a reactor calls that pitcrew does by itself: dropped, with why. */
export const DONE_BY_ITSELF: Record<string, string> = {
  'cloud.upload_batch': 'the outbox sends as it goes and flushes to disk before sleep',
  'power.sleep_timer':
    "the power section's sleep timer does this: power.sleep {after, when} suspends once when has held for after",
};
