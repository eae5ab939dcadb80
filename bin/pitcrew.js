#!/usr/bin/env node
// The installed command: the bundled CLI (`npm run build`). In a checkout, `npm run pitcrew -- …` runs the sources.
import module from 'node:module';

// Node 22+ caches compiled code between runs; Node 20 has no such cache and starts without it.
module.enableCompileCache?.();
await import('../dist/bin/pitcrew.js');
