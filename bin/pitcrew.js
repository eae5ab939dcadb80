#!/usr/bin/env node
// The installed command: the bundled CLI (`npm run build`). In a checkout, `npm run pitcrew -- …` runs the sources.
import module from 'node:module';

const require = module.createRequire(import.meta.url);
// Compiled code cached between runs: Node 22+ does it itself, Node 20 through v8-compile-cache.
if (module.enableCompileCache) module.enableCompileCache();
else require('v8-compile-cache');
require('../dist/bin/pitcrew.cjs');
