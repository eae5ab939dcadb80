import path from 'node:path';
import { counted } from '../core/counted.js';
import { errors, PitcrewError } from '../core/errors.js';

export interface Pos {
  file: string;
  line: number;
  column: number;
}

export type KeyPath = (string | number)[];

export interface ConfigIssue extends Pos {
  /** Dotted key path, indices in brackets: `services.obd.workers[0].interval`. */
  path: string;
  message: string;
}

export function formatPath(p: KeyPath): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

export function displayFile(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export function formatIssue(i: ConfigIssue): string {
  return `${displayFile(i.file)}:${i.line}:${i.column} ${i.path || '(root)'}: ${i.message}`;
}

function byPosition(a: ConfigIssue, b: ConfigIssue): number {
  return (
    a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.path.localeCompare(b.path)
  );
}

/** Every problem found in a config, sorted by position. Thrown by `loadConfig`. */
export class ConfigError extends PitcrewError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    const sorted = [...issues].sort(byPosition);
    super(
      errors.CONFIG_INVALID.code,
      `config has ${counted(sorted.length, 'error')}:\n` +
        sorted.map((i) => `  ${formatIssue(i)}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.issues = sorted;
  }
}

/** Prints every issue, one per line, and their count: what `validate` and a failed `run` show. */
export function printIssues(e: ConfigError, write: (line: string) => void = console.error): void {
  for (const issue of e.issues) write(formatIssue(issue));
  write(counted(e.issues.length, 'error'));
}
