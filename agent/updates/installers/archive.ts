import { createRequire } from 'node:module';
import path from 'node:path';
import { errors } from '../../errors.js';

type Tar = typeof import('tar');
let tar: Tar | undefined;
/** node-tar, loaded with the first archive (kept out of the bundled command, like the addons). */
const lib = (): Tar => (tar ??= createRequire(import.meta.url)('tar') as Tar);

const KINDS = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

/** Whether `p` (relative to the root) stays inside it. */
const inside = (p: string) => {
  const n = path.posix.normalize(p);
  return n !== '..' && !n.startsWith('../') && !path.posix.isAbsolute(n);
};

/**
 * Every entry of a `.tar.gz`, checked before anything is written: a path must stay inside the
 * root, a link (hard or symbolic) must point inside it, and only files, directories and links are
 * taken (no devices or FIFOs). Throws PITCREW_UPDATE_ARCHIVE naming the first bad entry.
 */
export async function checkArchive(file: string): Promise<number> {
  const bad: { entry: string; why: string }[] = [];
  let count = 0;
  await lib().t({
    file,
    strict: true,
    onReadEntry: (e) => {
      count++;
      const p = e.path;
      if (!KINDS.has(e.type)) bad.push({ entry: p, why: `is a ${e.type}, which an app may not carry` });
      else if (path.posix.isAbsolute(p) || !inside(p))
        bad.push({ entry: p, why: 'escapes the install directory' });
      else if (e.type === 'SymbolicLink' || e.type === 'Link') {
        const target = e.linkpath ?? '';
        // A symbolic link resolves from its own directory, a hard link from the archive's root.
        const from = e.type === 'SymbolicLink' ? path.posix.dirname(p) : '.';
        if (path.posix.isAbsolute(target) || !inside(path.posix.join(from, target)))
          bad.push({ entry: p, why: `links to '${target}', outside the install directory` });
      }
    },
  });
  const first = bad[0];
  if (first) throw errors.UPDATE_ARCHIVE(first.entry, first.why);
  return count;
}

/** Unpacks a checked archive into `dir` (which exists and is empty). */
export async function unpack(file: string, dir: string): Promise<void> {
  await checkArchive(file);
  await lib().x({ file, cwd: dir, strict: true, preservePaths: false, preserveOwner: false });
}
