#!/bin/sh
":" /*
# The installed command. Started as a program, a shell runs these lines: node from the startup
# snapshot `pitcrew snapshot` built for this bundle and this node binary (agent/cli/snapshot.ts),
# or else node on this file, whose JavaScript below loads the bundle. PITCREW_SNAPSHOT=off: never
# the snapshot; PITCREW_SNAPSHOT_DIR: where it is, if not beside the bundle. `node bin/pitcrew.js`
# runs the JavaScript only. The settings, sized for a small unit:
# - one V8 helper thread, not one per core (each holds a malloc arena, ~10 MB of RSS);
# - a young generation of 4 MB, not 32, at that size from the start (the start's long-lived
#   objects are copied by fewer scavenges). 4 MB against 8: 4–5 MB less resident on the default
#   config at 60x (bench/memory); the reactor's rate under these flags and the first vehicle
#   event did not move (interleaved runs);
# - glibc's malloc hands blocks of 64 KiB and more to mmap, so they go back to the system when
#   freed; left to itself it raises that threshold after each large free, and later blocks of
#   that size stay in its arenas, fragmented: 2 MB less resident on the default config at 60x,
#   at the same CPU.
# Once started, `run` adds an old generation that grows by 20 %, not 100 %, before the next full
# GC (heap-growth.ts). Together they keep a busy agent ~20 MB smaller at no measured speed cost.
# From the snapshot, V8 keeps the string hash seed the blob was built with (--no-rehash-snapshot)
# rather than hashing every string and table in it again for a seed of its own: 6-7 ms of each
# start (bench/startup). That seed was drawn at random when the blob was built, on this machine:
# no blob ships in the package, and one built elsewhere (a unit's disk image copied) is not used,
# its stamp naming another machine (/etc/machine-id). So the seed is this unit's alone, as
# resistance to hash flooding needs. Never without the blob (node's built-in snapshot's seed is
# the same for everyone), nor on a machine without an id (a container, whose image's blob every
# container shares). And glibc's malloc asks for transparent huge pages for its blocks of
# 2 MB and more (glibc.malloc.hugetlb=1; a setting of the caller's own comes after it, and wins):
# node reads and copies the 11 MB blob through such blocks, each touched page a fault, and in
# 2 MB pages a start takes 8-9 ms less (bench/startup); the agent is 1-2 MB larger for it
# (bench/memory: its heap's arena grows in huge pages). A kernel without them changes nothing.
# What node starts is given the caller's setting (snapshot-entry.cjs).
export MALLOC_MMAP_THRESHOLD_=65536
flags='--v8-pool-size=1 --min-semi-space-size=2 --max-semi-space-size=2'
self=$(readlink -f -- "$0")
bundle=${self%/bin/*}/dist/bin
snapshot=${PITCREW_SNAPSHOT_DIR:-$bundle/snapshot}
node=$(command -v node) || { echo 'pitcrew: node is not on the PATH' >&2; exit 127; }
read -r machine 2>/dev/null < /etc/machine-id || machine=
read -r build 2>/dev/null < "$bundle/build-id" || build=none
if [ "${PITCREW_SNAPSHOT:-}" != off ] && [ -f "$snapshot/pitcrew.blob" ] && read -r built 2>/dev/null < "$snapshot/stamp" &&
  [ "$built" = "$bundle $build $(stat -L -c %d:%i:%s:%Y -- "$node")${machine:+ $machine}" ]; then
  export GLIBC_TUNABLES="glibc.malloc.hugetlb=1${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"
  exec "$node" $flags --snapshot-blob "$snapshot/pitcrew.blob" ${machine:+--no-rehash-snapshot} "$self" "$@"
fi
exec "$node" $flags "$self" "$@"
*/
// The bundled CLI (`npm run build`). In a checkout, `npm run pitcrew -- …` runs the sources.
import module from 'node:module';

const require = module.createRequire(import.meta.url);
// Compiled code cached between runs, by Node itself (measured on Node 24, bench/startup: the agent's
// own share 222 ms, against 241 ms through the v8-compile-cache package it replaces).
if (!module.enableCompileCache) {
  // Below Node 22 the native addons do not load either: say so, rather than crash on the first one.
  console.error(`pitcrew runs on Node.js 22 or 24; this is Node.js ${process.version}`);
  process.exit(1);
}
module.enableCompileCache();
// User modules, wherever they live, import `pitcrew` (this agent's SDK) and the agent's own
// dependencies: through sdk-resolve.js, loaded with the first of them.
const importModule = async (url) => (await import('../dist/agent/sdk-resolve.js')).importModule(url);
await require('../dist/bin/pitcrew.cjs').main(process.argv, { importModule, snapshot: false });
