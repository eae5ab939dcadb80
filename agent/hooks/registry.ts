import { round, scale } from './converters.js';
import { position, unit } from './enrichers.js';
import { changed, every, logic, range } from './filters.js';
import { cloud, emit, file, log, signals } from './returners.js';
import { batteryState, dtcChange, engineState, positionState, threshold } from './triggers.js';
import type { HookDef } from './types.js';

/** The built-in hook library (DESIGN §3.1). Adding a hook: its file (copy `filters.ts#range`), then one line here. */
export const BUILTIN_HOOKS: ReadonlyMap<string, HookDef> = new Map(
  [
    scale,
    round,
    changed,
    range,
    every,
    logic,
    position,
    unit,
    engineState,
    batteryState,
    threshold,
    dtcChange,
    positionState,
    signals,
    emit,
    log,
    file,
    cloud,
  ].map((d) => [d.name, d]),
);

/** `./path/file.js#export`: a hook from a module, relative to the config file naming it. */
export const MODULE_REF_RE = /^((?:\.{1,2})?\/[^#]+)#([A-Za-z_$][\w$]*)$/;
