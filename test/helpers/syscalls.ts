import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tmpDir } from './tmp.js';

/**
 * The system calls `calls` this process (every thread) and what it starts make while `run` runs,
 * in order, as strace writes them with paths for descriptors (`fsync(9</dir/file>) = 0`): what a
 * power cut would find on the disk follows from their order.
 */
export async function traced(calls: string[], run: () => Promise<void>): Promise<string[]> {
  const file = path.join(tmpDir('pitcrew-trace-'), 'trace');
  const strace = spawn(
    'strace',
    ['-f', '-y', '-e', `trace=${calls.join(',')}`, '-o', file, '-p', String(process.pid)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  // Attached once it says so (to the process and all its threads).
  await new Promise<void>((resolve, reject) => {
    let said = '';
    strace.stderr.setEncoding('utf8').on('data', (s: string) => {
      said += s;
      if (/attached/.test(said)) resolve();
    });
    strace.once('exit', (code) => reject(new Error(`strace ended (${code}) before it attached: ${said}`)));
  });
  try {
    await run();
  } finally {
    strace.kill('SIGINT');
    await once(strace, 'exit');
  }
  return readFileSync(file, 'utf8').split('\n');
}

/** Each traced call that succeeded, as `<call> <paths…>`, paths made relative to `dir` (`.` for it). */
export function callsIn(lines: string[], dir: string): string[] {
  return lines.flatMap((l) => {
    const m = /^\d+\s+(\w+)\((.*)\)\s+= 0$/.exec(l);
    if (!m) return [];
    const paths = [...m[2]!.matchAll(/(?:<|")([^>"]+)(?:>|")/g)].map((p) => p[1]!);
    const inside = paths.filter((p) => p === dir || p.startsWith(`${dir}/`));
    if (inside.length === 0) return [];
    return [
      [m[1]!.replace(/^renameat2?$/, 'rename'), ...inside.map((p) => path.relative(dir, p) || '.')].join(' '),
    ];
  });
}

/** Where `call` is in `seen` (callsIn's); a failure lists them all when it is not there. */
export function positionOf(seen: string[], call: string): number {
  const i = seen.indexOf(call);
  assert.ok(i >= 0, `${call} in ${JSON.stringify(seen)}`);
  return i;
}
