import * as z from 'zod';
import { errors } from '../../errors.js';
import { defineAction } from './types.js';

export const publish = defineAction({
  name: 'publish',
  schema: z.strictObject({
    topic: z.string().min(1),
    payload: z.unknown().optional(),
    qos: z.literal([0, 1, 2]).default(1),
    retain: z.boolean().default(false),
  }),
  compile: () => ({
    name: 'publish',
    live: false,
    run: () => {
      throw errors.ACTION_UNAVAILABLE('publish', 'the cloud link');
    },
  }),
});
