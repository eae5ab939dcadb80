import { ConfigError, printIssues } from '../config/errors.js';
import { type LoadedConfig, loadConfigSync } from '../config/load.js';

export const DEFAULT_CONFIG = 'config/pitcrew.yaml';

/** Loads a config, or prints every problem to stderr and exits 1. */
export function loadOrExit(file: string): LoadedConfig {
  try {
    return loadConfigSync(file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    printIssues(e);
    process.exit(1);
  }
}
