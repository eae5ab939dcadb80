#!/usr/bin/env -S node --v8-pool-size=1 --max-semi-space-size=4 --heap-growing-percent=20
// Sized for a small unit: one V8 helper thread, not one per core (each holds a malloc arena, ~10 MB
// of RSS); a young generation of 8 MB, not 32; an old generation that grows by 20 %, not 100 %,
// before the next full GC. Together they keep a busy agent ~20 MB smaller at no measured speed cost.
// The installed command: the bundled CLI (`npm run build`). In a checkout, `npm run pitcrew -- …` runs the sources.
import module from 'node:module';

const require = module.createRequire(import.meta.url);
// Compiled code cached between runs: Node 22+ does it itself, Node 20 through v8-compile-cache.
if (module.enableCompileCache) module.enableCompileCache();
else require('v8-compile-cache');
// Code compiled through v8-compile-cache cannot import(): user modules are imported from here.
await require('../dist/bin/pitcrew.cjs').main(process.argv, { importModule: (url) => import(url) });
