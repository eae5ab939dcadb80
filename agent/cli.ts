#!/usr/bin/env node
/** `pitcrew` from the sources (`npm start`, `npm run pitcrew`); the installed command is bin/pitcrew.js. */
import { main } from './cli/main.js';

await main(process.argv);
