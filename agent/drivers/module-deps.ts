import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { flushFileSystem, writeDurably } from '../core/durable-file.js';
import type { Logger } from '../core/logger.js';
import { tailOf } from '../core/output-tail.js';
import { moduleDependencies } from '../sdk-resolve.js';
import { errors } from './errors.js';

/** Longest an install may take before it counts as failed. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;
/** How much of npm's error output the error keeps. */
const TAIL = 2000;

function npm(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        npm_config_update_notifier: 'false',
        npm_config_fund: 'false',
        npm_config_audit: 'false',
      },
    });
    const err = tailOf(child.stderr, TAIL);
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`npm ${args[0]} exited with ${code}: ${err().trim()}`));
    });
  });
}

/**
 * A module directory's own dependencies (DESIGN §16): when it has a `package.json`, they are
 * installed into `data_dir/modules/<hash>/` (the hash of its package.json, lockfile and the
 * allowed install scripts), once: `npm ci` with a lockfile, else `npm install`, always
 * `--omit=dev --ignore-scripts`; tarballs beside it (`file:` dependencies, or what a unit offline
 * was given) go along. Packages named in `allowScripts` then run their install scripts (native
 * addons). The module's imports resolve there first. Resolves with what happened, for the status.
 */
export async function installModuleDeps(
  moduleFile: string,
  dataDir: string,
  allowScripts: readonly string[],
  log: Logger,
): Promise<{ dir: string; cached: boolean } | undefined> {
  const from = path.dirname(moduleFile);
  const pkg = path.join(from, 'package.json');
  if (!existsSync(pkg)) return undefined;
  const lock = path.join(from, 'package-lock.json');
  const tarballs = readdirSync(from).filter((f) => f.endsWith('.tgz'));
  const hash = createHash('sha256')
    .update(readFileSync(pkg))
    .update(existsSync(lock) ? readFileSync(lock) : '')
    .update(JSON.stringify([...allowScripts].sort()))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(dataDir, 'modules', hash);
  const cached = existsSync(path.join(dir, '.installed'));
  if (!cached) {
    const staging = `${dir}.installing`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    for (const f of ['package.json', ...(existsSync(lock) ? ['package-lock.json'] : []), ...tarballs])
      copyFileSync(path.join(from, f), path.join(staging, f));
    const t0 = Date.now();
    log.info({ module: moduleFile, into: dir }, 'installing the module’s dependencies');
    try {
      const common = ['--omit=dev', '--ignore-scripts'];
      await npm(existsSync(lock) ? ['ci', ...common] : ['install', ...common, '--no-package-lock'], staging);
      if (allowScripts.length) await npm(['rebuild', ...allowScripts, '--ignore-scripts=false'], staging);
    } catch (e) {
      rmSync(staging, { recursive: true, force: true });
      throw errors.MODULE_DEPS(moduleFile, (e as Error).message);
    }
    // On the disk before it is named and marked installed: a power cut never leaves it marked with
    // files of zero bytes, which no later start would install again.
    await flushFileSystem(staging);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    writeDurably(path.join(dir, '.installed'), `${new Date().toISOString()}\n`, 0o644);
    log.info({ module: moduleFile, ms: Date.now() - t0 }, 'module dependencies installed');
  }
  moduleDependencies.set(from, dir);
  return { dir, cached };
}
