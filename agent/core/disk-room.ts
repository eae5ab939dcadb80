import { statfs } from 'node:fs/promises';

/**
 * Bytes a unit may still write under `dir`: its file system's free space less a 5 % reserve, so
 * what one install or commit brings never takes the last of it.
 */
export async function roomUnder(dir: string): Promise<number> {
  return Math.floor((await freeUnder(dir)) * 0.95);
}

/** Free bytes of the file system that holds `dir`, as a user other than root may write them. */
export async function freeUnder(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}
