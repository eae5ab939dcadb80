import { ConfigError, formatIssue } from '../config/errors.js';
import { type LoadedConfig, loadConfigSync } from '../config/load.js';

export const DEFAULT_CONFIG = 'config/pitcrew.yaml';

/** Loads a config, or prints every problem to stderr and exits 1. */
export function loadOrExit(file: string): LoadedConfig {
  try {
    return loadConfigSync(file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const issue of e.issues) console.error(formatIssue(issue));
    console.error(`${e.issues.length} error${e.issues.length === 1 ? '' : 's'}`);
    process.exit(1);
  }
}
