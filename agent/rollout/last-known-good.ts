import { existsSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type LoadedConfig, loadChecked } from '../config/load.js';
import { standalone } from '../config/paths.js';
import type { ConfigT } from '../config/schema.js';

/** Where the last config that ran is kept: a JSON copy in data_dir, as written but with includes merged and paths absolute. */
export const lastKnownGoodFile = (dataDir: string) => path.join(dataDir, 'last-known-good.json');

/** Keeps a config as the last known good (written whole, then renamed, so a crash leaves the old one). */
export function saveLastKnownGood(dataDir: string, raw: unknown, config: ConfigT): void {
  const whole = standalone(raw, config);
  const file = lastKnownGoodFile(dataDir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(whole, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** The last known good config, checked as fully as any other; undefined when there is none. */
export async function loadLastKnownGood(dataDir: string): Promise<LoadedConfig | undefined> {
  const file = lastKnownGoodFile(dataDir);
  return existsSync(file) ? loadChecked(file, {}) : undefined;
}
