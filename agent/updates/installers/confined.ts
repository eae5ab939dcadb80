import { realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { Segment } from '../../../schemas/wire.js';
import { errors } from '../errors.js';

/** Whether `p` lies strictly inside `root` (both absolute). */
const strictlyInside = (root: string, p: string) => {
  const rel = path.relative(root, p);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
};

/** The real path of `p`'s directory (symlinks resolved) joined with its name; `p` itself may not exist. */
async function realParent(p: string): Promise<string> {
  const dir = await realpath(path.dirname(p)).catch(() => path.dirname(p));
  return path.join(dir, path.basename(p));
}

/**
 * Deletes `target` (recursively) only when it lies strictly inside `root`, symlinks of its
 * directories resolved: every delete an installer makes goes through here, so no name from a
 * message can reach the root itself, its parent or anything beside it.
 */
export async function removeInside(root: string, target: string): Promise<void> {
  const r = await realpath(root).catch(() => path.resolve(root));
  const t = await realParent(path.resolve(target));
  if (!strictlyInside(r, t))
    throw errors.UPDATE_INSTALL(path.basename(target), `refused to delete ${t}: it is not inside ${r}`);
  // Retried: an aborted unpack may still be closing files in the tree.
  await rm(t, { recursive: true, force: true, maxRetries: 5 });
}

/** `s` as one path segment, checked against the message grammar again (a store written by an older version). */
export function segment(s: string): string {
  if (!Segment.safeParse(s).success) throw errors.UPDATE_INSTALL(s, `'${s}' is not a safe name`);
  return s;
}
