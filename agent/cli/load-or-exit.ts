import { ConfigError, printIssues } from '../config/errors.js';
import { type LoadedConfig, loadChecked, loadConfigSync } from '../config/load.js';

export const DEFAULT_CONFIG = 'config/pitcrew.yaml';

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
