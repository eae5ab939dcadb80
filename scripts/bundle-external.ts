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

/**
 * A library's file bundled with one line of it changed: `line`, found exactly as written (the build
 * fails if it is not, so an update of the library is looked at again), becomes `to(line)`.
 */
function patched(name: string, filter: RegExp, line: string, to: (line: string) => string): Plugin {
  return {
    name,
    setup(b) {
      b.onLoad({ filter }, ({ path: file }) => {
        const text = readFileSync(file, 'utf8');
        if (!text.includes(line)) throw new Error(`${file}: '${line}' is not in it; look at ${name} again`);
        return { contents: text.replace(line, to(line)), loader: 'js' };
      });
    },
  };
}

/**
 * better-sqlite3 builds each statement's row objects with a constructor it generates from a string
 * (`Function(...)`), which a node run with `--disallow-code-generation-from-strings` refuses: every
 * query that returns rows threw, so the agent could not open its first database. Where generation is
 * refused, its own closure builder (the one it uses for a `__proto__` column) makes the rows.
 */
const sqliteRowsWithoutCodeGeneration = patched(
  'better-sqlite3-rows',
  /[\\/]better-sqlite3[\\/]lib[\\/]database\.js$/,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the library's source text, matched as written.
  'return Function(`return (${parameters}) => ({${properties}})`)();',
  (line) => `try { ${line} } catch (e) { if (!(e instanceof EvalError)) throw e; }`,
);

/**
 * pino finds its callers' files (`util.getCallSites`) for every logger it makes, which only a
 * transport's relative paths use: the first call sets up V8's stack-trace positions for the whole
 * bundle, ~1.8 ms of a start. The agent gives pino no transport (its lines go to a LogSink).
 */
const pinoCallersForTransportsOnly = patched(
  'pino-callers',
  /[\\/]pino[\\/]pino\.js$/,
  'normalize(instance, caller(), ...args)',
  () => 'normalize(instance, args[0]?.transport ? caller() : undefined, ...args)',
);

/** What every bundle of the agent's code needs: what it keeps outside loaded, and the libraries' lines above changed. */
export const BUNDLE_PLUGINS: Plugin[] = [
  sqliteAddonBeside,
  sqliteRowsWithoutCodeGeneration,
  pinoCallersForTransportsOnly,
];
