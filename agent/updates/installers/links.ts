import { readlink, rename, symlink } from 'node:fs/promises';
import path from 'node:path';
import { removeInside } from './confined.js';

/** What `dir/link` points at (`current`, `previous`), or undefined when there is no such link. */
export async function target(dir: string, link: string): Promise<string | undefined> {
  return readlink(path.join(dir, link)).catch(() => undefined);
}

/** Points `dir/link` at `to` in one step: a new link renamed over the old one. */
export async function relink(dir: string, link: string, to: string): Promise<void> {
  const tmp = path.join(dir, `.${link}.new`);
  await removeInside(dir, tmp);
  await symlink(to, tmp);
  await rename(tmp, path.join(dir, link));
}
