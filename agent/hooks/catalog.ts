import type { HookKind } from '../../schemas/services.js';

/** Built-in hook names and their kinds (DESIGN §3.1). */
export const BUILTIN_HOOKS: Readonly<Record<string, HookKind>> = {
  scale: 'converter',
  round: 'converter',
  changed: 'filter',
  range: 'filter',
  every: 'filter',
  logic: 'filter',
  position: 'enricher',
  unit: 'enricher',
  engine_state: 'trigger',
  battery_state: 'trigger',
  threshold: 'trigger',
  dtc_change: 'trigger',
  position_state: 'trigger',
  signals: 'returner',
  cloud: 'returner',
  emit: 'returner',
  log: 'returner',
  file: 'returner',
};

/** `./path/file.js#export`: a hook from a module, relative to the config file naming it. */
export const MODULE_REF_RE = /^(\.{1,2}\/[^#]+)#([A-Za-z_$][\w$]*)$/;
