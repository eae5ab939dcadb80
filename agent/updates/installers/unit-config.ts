import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { writeDurably } from '../../core/durable-file.js';
import type { ItemT } from '../model.js';
import type { CommandInstaller } from './command.js';
import { removeInside, segment } from './confined.js';
import type { Installer } from './installer.js';
import { relink, target } from './links.js';

/**
 * Applies an Aos unit config (DESIGN §14): the config as the desired status carried it is written
 * to `dir/<version>.json`, then the configured command runs with `{{ file }}` naming it. On
 * success `current.json` points at it; the version it replaced stays beside it, older ones go.
 */
export class UnitConfigInstaller implements Installer {
  constructor(
    private readonly dir: string,
    private readonly command: CommandInstaller,
  ) {}

  async install(item: ItemT): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const name = `${segment(item.version)}.json`;
    const file = path.join(this.dir, name);
    writeDurably(file, `${JSON.stringify(item.content, null, 2)}\n`, 0o644);
    await this.command.install(item, file);
    const was = await target(this.dir, 'current.json');
    await relink(this.dir, 'current.json', name);
    const keep = new Set(['current.json', name, ...(was ? [was] : [])]);
    for (const entry of await readdir(this.dir))
      if (!keep.has(entry)) await removeInside(this.dir, path.join(this.dir, entry));
  }

  /** A unit config is replaced by the next one, never taken away. */
  async remove(): Promise<void> {}
}
