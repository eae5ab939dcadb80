import { mkdir, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { flush, flushFileSystem } from '../../core/durable-file.js';
import { errors } from '../errors.js';
import type { ItemT } from '../model.js';
import { type ArchiveLimits, unpack } from './archive.js';
import { removeInside, segment } from './confined.js';
import type { Installer } from './installer.js';
import { relink, target } from './links.js';

/** The name an item's version directory has: its version (services), its digest (layers). */
const versionDir = (item: ItemT) => segment(item.digest ?? item.version);

/**
 * Installs a `.tar.gz` under `root/<section>/<id>/`: unpacked (entries checked first) into a new
 * directory named for its version, then the `current` symlink is switched to it atomically (a new
 * link renamed over the old), and `previous` points at what `current` was, kept for rollback.
 * Older versions are deleted. The files are on the disk before the switch, and the switch before
 * the install ends: a power cut leaves the old version or the new one whole. Removing the current version removes the item's whole directory.
 */
export class DirectoryInstaller implements Installer {
  constructor(
    private readonly root: string,
    private readonly limits: (artifact: string) => Promise<ArchiveLimits>,
  ) {}

  private base(item: ItemT): string {
    return baseOf(this.root, item);
  }

  private rm(p: string): Promise<void> {
    return removeInside(this.root, p);
  }

  async install(item: ItemT, file?: string): Promise<void> {
    if (!file) throw errors.UPDATE_INSTALL(item.id, 'it has no download to unpack');
    const base = this.base(item);
    const name = versionDir(item);
    await mkdir(base, { recursive: true });
    const staging = path.join(base, `.${name}.unpacking`);
    await this.rm(staging);
    await mkdir(staging);
    try {
      await unpack(file, staging, await this.limits(file));
      // On the disk before any name points at it: after a power cut `current` is never a version
      // whose files are empty.
      await flushFileSystem(staging);
    } catch (e) {
      await this.rm(staging);
      throw e;
    }
    const was = await target(base, 'current');
    if (was === name) await rename(path.join(base, name), path.join(base, `.${name}.old`));
    await rename(staging, path.join(base, name));
    await this.rm(path.join(base, `.${name}.old`));
    if (was && was !== name) await relink(base, 'previous', was);
    await relink(base, 'current', name);
    // The switch on the disk before the install is recorded as done.
    await flush(base);
    const keep = new Set(['current', 'previous', name, ...(was ? [was] : [])]);
    for (const entry of await readdir(base)) if (!keep.has(entry)) await this.rm(path.join(base, entry));
  }

  async remove(item: ItemT): Promise<void> {
    const base = this.base(item);
    const name = versionDir(item);
    // A version replaced by a newer one stays as `previous`, for rollback.
    if ((await target(base, 'previous')) === name) return;
    if ((await target(base, 'current')) === name || !(await target(base, 'current'))) await this.rm(base);
    else await this.rm(path.join(base, name));
  }
}

const baseOf = (root: string, item: Pick<ItemT, 'section' | 'id'>) =>
  path.join(root, item.section, segment(item.id));

/**
 * Puts an item's `previous` version back as `current` (a version that could not run), deleting the
 * failed one; resolves with the version restored, or undefined when there is no previous one.
 */
export async function revertInstalled(
  root: string,
  item: Pick<ItemT, 'section' | 'id'>,
): Promise<string | undefined> {
  const base = baseOf(root, item);
  const previous = await target(base, 'previous');
  const failed = await target(base, 'current');
  if (!previous || previous === failed) return undefined;
  await relink(base, 'current', previous);
  await removeInside(root, path.join(base, 'previous'));
  if (failed) await removeInside(root, path.join(base, segment(failed)));
  return previous;
}
