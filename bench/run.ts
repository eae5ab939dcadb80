/**
 * Runs every benchmark under bench/ (or those named: `npm run bench -- config-load`), one process
 * each, under the installed command's node flags and environment.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { commandNode } from './_agent-process.js';

const here = import.meta.dirname;
const wanted = process.argv.slice(2);
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));
const { execArgv, env } = commandNode();
let failed = 0;
for (const name of wanted.length ? wanted : all) {
  console.log(`\n== bench/${name}`);
  const r = spawnSync(
    process.execPath,
    [...execArgv, '--import', 'tsx', '--expose-gc', path.join(here, `${name}.ts`)],
    { stdio: 'inherit', env: { ...process.env, ...env } },
  );
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
