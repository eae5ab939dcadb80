/** `node --import …/sdk-register.js`: a test process resolves `pitcrew` as the agent does (`pitcrew test`). */
import { registerSdkResolution } from './sdk-resolve.js';

registerSdkResolution();
