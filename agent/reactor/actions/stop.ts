import * as z from 'zod';
import { defineAction, STOP } from './types.js';

export const stop = defineAction({
  name: 'stop',
  schema: z.union([z.string(), z.null(), z.literal(true)]),
  compile: () => ({ name: 'stop', live: true, run: () => STOP }),
});
