/**
 * Bundles the compiled CLI (dist/agent/cli/main.js, exporting main) into one CommonJS file, dist/bin/pitcrew.cjs: one
 * minified file starts far faster than hundreds of modules on an SD card, and Node's compile cache
 * (`module.enableCompileCache`) keeps its compiled code between runs. Native addons stay external
 * (but better-sqlite3's JavaScript, which every start loads), and so do the update manager's gRPC
 * and tar libraries.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_EXTERNAL, BUNDLE_PLUGINS } from './bundle-external.js';

// ESM code that reads import.meta.url gets the bundle's own URL.
const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-bundle-'));
const shim = path.join(dir, 'import-meta-url.js');
writeFileSync(shim, "export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;\n");
try {
  await build({
    entryPoints: ['dist/agent/cli/main.js'],
    outfile: 'dist/bin/pitcrew.cjs',
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'cjs',
    platform: 'node',
    target: 'node22',
    external: BUNDLE_EXTERNAL,
    // fdir's ES build loads picomatch through `createRequire`, outside the bundle: a second copy,
    // read and compiled at every start. Its CommonJS build requires it plainly, so the bundle's own is used.
    alias: { fdir: './node_modules/fdir/dist/index.cjs' },
    define: { 'import.meta.url': 'importMetaUrl' },
    inject: [shim],
    plugins: BUNDLE_PLUGINS,
    logLevel: 'warning',
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
// A module service's thread entry is plain JavaScript, loaded by path beside the code that starts it.
for (const to of ['dist/bin', 'dist/agent/drivers'])
  copyFileSync('agent/drivers/module-thread.mjs', `${to}/module-thread.mjs`);
// So is the startup snapshot's entry, beside the bundle it evaluates.
copyFileSync('agent/cli/snapshot-entry.cjs', 'dist/bin/snapshot-entry.cjs');
// The build's identity, of what a startup snapshot is made (the bundle and its entry): the snapshot's
// stamp holds it (bin/pitcrew.js, agent/cli/snapshot.ts), so a snapshot of an earlier build, kept
// where an upgrade does not reach (a service's cache directory), is never used with this one.
const id = createHash('sha256');
for (const f of ['dist/bin/pitcrew.cjs', 'dist/bin/snapshot-entry.cjs']) id.update(readFileSync(f));
writeFileSync('dist/bin/build-id', `${id.digest('hex').slice(0, 32)}\n`);
