#!/usr/bin/env node
/** `pitcrew` from the sources (`npm start`, `npm run pitcrew`); the installed command is bin/pitcrew.js. */
import { main } from './cli/main.js';
import { registerSdkResolution } from './sdk-resolve.js';

registerSdkResolution();
await main(process.argv);
