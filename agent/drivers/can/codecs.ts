import { readFileSync } from 'node:fs';
import { MessageCodec } from './codec.js';
import { type Dbc, frameKey, parseDbc } from './dbc.js';

/** A DBC file, read as DBC editors write it (Latin-1). */
export const readDbc = (file: string): Dbc => parseDbc(readFileSync(file, 'latin1'), file);

/** Every message of the DBCs by name, and its codec by frame key. */
export function codecsOf(files: readonly string[]) {
  const byKey = new Map<number, MessageCodec>();
  const byName = new Map<string, MessageCodec>();
  for (const file of files)
    for (const m of readDbc(file).messages) {
      const c = new MessageCodec(m);
      byKey.set(frameKey(m.id, m.extended), c);
      byName.set(m.name, c);
    }
  return { byKey, byName };
}
