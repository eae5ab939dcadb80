import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type LoadedConfig, loadChecked } from '../config/load.js';
import { standalone } from '../config/paths.js';
import type { ConfigT } from '../config/schema.js';
import { writeDurably } from '../core/durable-file.js';

/** Where the last config that ran is kept: a JSON copy in data_dir, as written but with includes merged and paths absolute. */
export const lastKnownGoodFile = (dataDir: string) => path.join(dataDir, 'last-known-good.json');

/**
 * Keeps a config as the last known good, durably (a crash or power cut leaves the old one or this);
 * the same config again (a start) is not written again: no flush on the card at every start.
 */
export function saveLastKnownGood(dataDir: string, raw: unknown, config: ConfigT): void {
  const file = lastKnownGoodFile(dataDir);
  const text = `${JSON.stringify(standalone(raw, config), null, 2)}\n`;
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  writeDurably(file, text);
}

/** The last known good config, checked as fully as any other; undefined when there is none. */
export async function loadLastKnownGood(dataDir: string): Promise<LoadedConfig | undefined> {
  const file = lastKnownGoodFile(dataDir);
  return existsSync(file) ? loadChecked(file, {}) : undefined;
}
