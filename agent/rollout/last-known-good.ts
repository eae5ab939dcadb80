import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type LoadedConfig, loadChecked } from '../config/load.js';
import { standalone } from '../config/paths.js';
import type { ConfigT } from '../config/schema.js';
import { writeDurablyAsync } from '../core/durable-file.js';

/** Where the last config that ran is kept: a JSON copy in data_dir, as written but with includes merged and paths absolute. */
export const lastKnownGoodFile = (dataDir: string) => path.join(dataDir, 'last-known-good.json');

/**
 * Keeps each config that proved good as the last known good, durably (a crash or a power cut
 * leaves the one before or this), off the main thread and one after another; the same config
 * again (a start) is not written again: no flush on the card at every start. A write that fails
 * (a full card) is said through `failed` and stops nothing: the file keeps the config before.
 */
export class LastKnownGood {
  private writing: Promise<void> = Promise.resolve();
  readonly file: string;

  constructor(
    dataDir: string,
    private readonly failed: (file: string, e: unknown) => void,
  ) {
    this.file = lastKnownGoodFile(dataDir);
  }

  save(raw: unknown, config: ConfigT): void {
    // Made now: `raw` and `config` as they are at this moment.
    const text = `${JSON.stringify(standalone(raw, config), null, 2)}\n`;
    this.writing = this.writing.then(() => this.write(text)).catch((e: unknown) => this.failed(this.file, e));
  }

  /** Resolves once what was saved is on the disk (or has failed). */
  settled(): Promise<void> {
    return this.writing;
  }

  private async write(text: string): Promise<void> {
    const kept = await readFile(this.file, 'utf8').catch(() => undefined);
    if (kept !== text) await writeDurablyAsync(this.file, text);
  }
}

/** The last known good config, checked as fully as any other; undefined when there is none. */
export async function loadLastKnownGood(dataDir: string): Promise<LoadedConfig | undefined> {
  const file = lastKnownGoodFile(dataDir);
  return existsSync(file) ? loadChecked(file, {}) : undefined;
}
