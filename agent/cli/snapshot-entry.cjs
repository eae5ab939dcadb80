'use strict';
/**
 * The startup snapshot's entry (`pitcrew snapshot`, run by `node --build-snapshot`): it evaluates
 * the bundle (pitcrew.cjs, beside it) once, at build time, so that a start deserializes the
 * bundle's built heap instead of running its modules and building its schemas again.
 *
 * Only Node's built-in modules load while a snapshot is built. The bundle's other requires (the
 * native addons it keeps external) get a stand-in that loads the module on first use, once the
 * process runs; one that is not installed fails as a require would have. Once the process runs,
 * the bundle's requires load as they would from the bundle itself. The bundle must not read what
 * belongs to the running process (its environment, home, time) when it loads: that would be the
 * build's, frozen into the snapshot.
 */
const { startupSnapshot } = require('node:v8');
const { createRequire, isBuiltin } = require('node:module');
const { readFileSync } = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const bundle = path.join(__dirname, 'pitcrew.cjs');
const fromBundle = createRequire(bundle);
let ready = false;

/**
 * better-sqlite3's addon while the snapshot is built, when no addon can load: databases that hold
 * nothing, which the start the bundle rehearses (its `warmUp`) opens. A query gives no rows, or a
 * row of zeros where it asks for one (the outbox's counts); nothing is written.
 */
function emptySqlite() {
  const zeros = new Proxy({}, { get: () => 0 });
  const statement = {
    run: () => ({ changes: 0, lastInsertRowid: 0 }),
    get: () => zeros,
    all: () => [],
    iterate: () => [][Symbol.iterator](),
    columns: () => [],
  };
  for (const mode of ['pluck', 'raw', 'expand', 'bind', 'safeIntegers']) statement[mode] = () => statement;
  class Database {
    open = true;
    inTransaction = false;
    prepare() {
      return statement;
    }
    exec() {}
    close() {
      this.open = false;
    }
    defaultSafeIntegers() {}
    unsafeMode() {}
  }
  return { initialize() {}, Database };
}

/**
 * A module the bundle requires, standing in until it is used once the process runs: the bundle
 * keeps these as CommonJS objects, so its stand-in answers `__esModule` without loading it. Used
 * while the snapshot is built, it fails, but for better-sqlite3's addon, which is then `emptySqlite`.
 */
function onFirstUse(name) {
  let real;
  const building = /[\\/]better-sqlite3[\\/].+\.node$/.test(name) ? emptySqlite() : undefined;
  const load = () => {
    if (!ready) {
      if (building) return building;
      throw new Error(`${name} is used while the startup snapshot is built`);
    }
    real ??= fromBundle(name);
    return real;
  };
  return new Proxy(function external() {}, {
    construct: (_, args, target) => Reflect.construct(load(), args, target),
    apply: (_, self, args) => Reflect.apply(load(), self, args),
    get: (_, key) => (key === '__esModule' && !real ? undefined : load()[key]),
    // better-sqlite3 marks its addon initialized: on the addon in use, the stand-in's not the real one's.
    set: (_, key, value) => Reflect.set(load(), key, value),
  });
}

function requireForBundle(name) {
  if (isBuiltin(name)) return require(name);
  if (ready) return fromBundle(name);
  // Resolved now: a module that is not installed fails here, as it would at a start.
  fromBundle.resolve(name);
  return onFirstUse(name);
}
requireForBundle.resolve = (name) => fromBundle.resolve(name);

const mod = { exports: {} };
const evaluate = vm.compileFunction(
  readFileSync(bundle, 'utf8'),
  ['exports', 'require', 'module', '__filename', '__dirname'],
  { filename: bundle },
);
evaluate(mod.exports, requireForBundle, mod, bundle, __dirname);
const failed = (e) => {
  console.error(e);
  process.exitCode = 1;
};
// Code compiled now is kept in the snapshot: a start then compiles nothing for what this ran
// (Node takes the snapshot once the event loop is empty).
// What the rehearsal did, on stdout: `pitcrew snapshot` says it with the build.
mod.exports
  .warmUp()
  .then((did) => process.stdout.write(`${did}\n`))
  .catch(failed);

/** User modules are imported by an ES module Node loads itself (its import() works), loaded with the first of them. */
let sdk;
function importModule(url) {
  sdk ??= fromBundle('../agent/sdk-resolve.js');
  return sdk.importModule(url);
}

/**
 * bin/pitcrew.js puts glibc's huge pages first in GLIBC_TUNABLES for node's own start (it reads
 * the blob through them): the programs the agent starts (actions, installers, git) get the
 * caller's setting, as it was. A small program in huge pages would hold 2 MB for a few KiB of heap.
 */
function tunablesAsCalled(env) {
  const ours = 'glibc.malloc.hugetlb=1';
  if (env.GLIBC_TUNABLES === ours) delete env.GLIBC_TUNABLES;
  else if (env.GLIBC_TUNABLES?.startsWith(`${ours}:`))
    env.GLIBC_TUNABLES = env.GLIBC_TUNABLES.slice(ours.length + 1);
}

startupSnapshot.setDeserializeMainFunction(() => {
  ready = true;
  tunablesAsCalled(process.env);
  require('node:module').enableCompileCache();
  mod.exports.main(process.argv, { importModule, snapshot: true }).catch(failed);
});
