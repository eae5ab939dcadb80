#!/usr/bin/env node
// Installed package: the compiled CLI (`npm run build`). In a checkout, use `npm run pitcrew -- …`.
await import('../dist/agent/cli.js');
