import { statfs } from 'node:fs/promises';

/**
 * Bytes a unit may still write under `dir`: its file system's free space less a 5 % reserve, so
 * what one install or commit brings never takes the last of it.
 */
export async function roomUnder(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Math.floor(s.bavail * s.bsize * 0.95);
}
