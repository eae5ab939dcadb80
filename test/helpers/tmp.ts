import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

/** A temporary directory removed when the test file ends. */
export function tmpDir(prefix = 'pitcrew-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `files` (relative path → text) under `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}

/** A config file `pitcrew.yaml` in a new temporary directory; `yaml` gets the directory (sockets, data). */
export function configFile(yaml: (dir: string) => string): { dir: string; file: string } {
  const dir = tmpDir();
  const file = path.join(dir, 'pitcrew.yaml');
  writeFileSync(file, yaml(dir));
  return { dir, file };
}
