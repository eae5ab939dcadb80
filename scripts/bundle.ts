/**
 * Bundles the compiled CLI (dist/agent/cli.js) into dist/bin/: one file for the agent, with code
 * only some commands need split off. A single minified file starts far faster than hundreds of
 * modules on an SD card. Native addons stay external.
 */
import { build } from 'esbuild';

await build({
  entryPoints: { pitcrew: 'dist/agent/cli.js' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'serialport', 'socketcan'],
  banner: {
    js: "import { createRequire as __pitcrewRequire } from 'node:module'; const require = __pitcrewRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
