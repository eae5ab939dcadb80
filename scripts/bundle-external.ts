import { readFileSync } from 'node:fs';
import type { Plugin } from 'esbuild';

/**
 * Native addons stay outside the bundle (better-sqlite3's addon is loaded by its bundled JavaScript,
 * below); gRPC and tar are loaded only by an agent that takes updates: kept out of every start.
 */
export const BUNDLE_EXTERNAL = [
  'socketcan',
  'serialport',
  'unix-dgram',
  '@grpc/grpc-js',
  '@grpc/proto-loader',
  'tar',
];

/**
 * better-sqlite3's JavaScript is bundled (it is then in the startup snapshot, not read and compiled
 * at every start); its addon is still loaded from its installed package. Its loader finds the addon
 * beside itself (`__dirname`, read up to three times), which in the bundle is the package's
 * directory, resolved once, as the bundle loads: while the startup snapshot is built, so a start
 * from it does not resolve it again (1 ms of a start; the snapshot is only used by its install).
 */
const sqliteAddonBeside: Plugin = {
  name: 'better-sqlite3-addon',
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3\/package\.json$/ }, ({ path: name }) => ({
      path: name,
      external: true,
    }));
    b.onLoad({ filter: /[\\/]better-sqlite3[\\/]lib[\\/]binding\.js$/ }, ({ path: file }) => ({
      contents: `${readFileSync(file, 'utf8').replaceAll('__dirname', 'packageLib')}
var packageLib = require('node:path').join(require.resolve('better-sqlite3/package.json'), '../lib');
`,
      loader: 'js',
    }));
  },
};

/** What every bundle of the agent's code needs, so it loads what it keeps outside. */
export const BUNDLE_PLUGINS: Plugin[] = [sqliteAddonBeside];
