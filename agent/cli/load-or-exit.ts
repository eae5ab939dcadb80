import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, formatIssue, printIssues } from '../config/errors.js';
import {
  dataDirOf,
  filesOf,
  type LoadedConfig,
  loadChecked,
  loadConfigSync,
  placeOf,
} from '../config/load.js';
import type { ConfigMemo } from '../config/memo.js';
import { keptBundle, loadWithBundle } from '../rollout/bundles.js';
import { errorText } from '../rollout/errors.js';
import { keptCommit } from '../rollout/git-rollout.js';
import { lastKnownGoodFile, loadLastKnownGood } from '../rollout/last-known-good.js';

/** Where an installed unit keeps its config. */
export const SYSTEM_CONFIG = '/etc/pitcrew/pitcrew.yaml';
/** A checkout's own config. */
const CHECKOUT_CONFIG = 'config/pitcrew.yaml';

/**
 * The config file a command reads without `-c`, as daemons look for theirs: `$PITCREW_CONFIG`,
 * then `./config/pitcrew.yaml` (in a checkout), then `/etc/pitcrew/pitcrew.yaml`.
 */
export function defaultConfig(env = process.env, cwd = process.cwd()): string {
  if (env.PITCREW_CONFIG) return env.PITCREW_CONFIG;
  return existsSync(path.join(cwd, CHECKOUT_CONFIG)) ? CHECKOUT_CONFIG : SYSTEM_CONFIG;
}

/** The `-c` option every command that reads a config has. */
export const CONFIG_HELP = `config file: $PITCREW_CONFIG, else ./${CHECKOUT_CONFIG} in a checkout, else ${SYSTEM_CONFIG}`;

/** Reads the control socket's path from a config without the rest of it (nor the agent's secrets), or exits 1. */
export function socketOrExit(file: string): string {
  try {
    return placeOf(file, 'socket');
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    printIssues(e);
    process.exit(1);
  }
}

/**
 * Loads and checks a config, or prints every problem to stderr and exits 1. `drivers: false`
 * skips the drivers' own checks (a command that only needs the control socket's path).
 */
export async function loadOrExit(file: string, drivers = true): Promise<LoadedConfig> {
  try {
    return drivers ? await loadChecked(file) : loadConfigSync(file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    printIssues(e);
    process.exit(1);
  }
}

/**
 * `run`'s load: the config file, with what ran with it before this start (the commit checked out
 * from git in its place, `instead`; the signed bundle last applied over either), or, when the
 * config file does not load and the data directory it names holds a last known good config, that
 * one, said loudly (every problem on stderr; `fallback` says what was not run and why, for the
 * log, the event and the status). With neither, every problem and exit 1. `files` are the config
 * file's own (to watch for the fix), whichever config runs.
 */
export async function loadOrLastKnownGood(
  file: string,
  memo?: ConfigMemo,
): Promise<{ loaded: LoadedConfig; files: string[]; fallback?: string[]; instead?: string }> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadChecked(file, process.env, { memo });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    printIssues(e);
    const dataDir = dataDirOf(file);
    const lkg = await loadLastKnownGood(dataDir).catch(() => undefined);
    if (!lkg) process.exit(1);
    console.error(`${file} does not load: running the last known good config, ${lastKnownGoodFile(dataDir)}`);
    const fallback = [
      `${file} does not load; running the last known good config`,
      ...e.issues.map(formatIssue),
    ];
    return { loaded: lkg, files: filesOf(file), fallback };
  }
  const kept = keptConfig(loaded, memo);
  if (!kept) return { loaded, files: loaded.files };
  try {
    return { loaded: await kept.load(), files: loaded.files, instead: kept.instead };
  } catch (e) {
    // The config file changed under it (edited while the unit was off): the file alone runs.
    const problems = e instanceof ConfigError ? e.issues.map(formatIssue) : [errorText(e)];
    for (const p of problems) console.error(p);
    const fallback = [`${kept.what} does not load with ${file}; running the config file alone`, ...problems];
    console.error(fallback[0]);
    return { loaded, files: loaded.files, fallback };
  }
}

/**
 * What ran with the config file before this start, and runs again: the commit checked out from git
 * (`rollout.git`) in its place, and the signed bundle last applied (`rollout.bundles`) over either.
 */
function keptConfig(loaded: LoadedConfig, memo?: ConfigMemo) {
  const { rollout, unit } = loaded.config;
  const commit = rollout?.git && keptCommit(unit.data_dir, rollout.git);
  const bundle = rollout?.bundles && keptBundle(unit.data_dir);
  if (!commit && !bundle) return undefined;
  const what = [commit && `git commit ${commit.commit.slice(0, 12)}`, bundle && `the kept bundle (${bundle})`]
    .filter(Boolean)
    .join(' with ');
  return {
    what,
    /** The commit's config file, which runs in place of the config file. */
    instead: commit ? commit.file : undefined,
    load: () =>
      loadWithBundle(commit ? commit.file : loaded.file, bundle, {
        within: commit ? commit.within : undefined,
        unitDir: path.dirname(loaded.file),
        memo,
      }),
  };
}
