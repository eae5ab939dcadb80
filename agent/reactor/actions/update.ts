import * as z from 'zod';
import { errors } from '../../errors.js';
import { defineAction } from './types.js';

export const update = defineAction({
  name: 'update',
  schema: z.strictObject({ start: z.enum(['fota', 'sota']) }),
  check: (body, cx) => {
    const start = (body as { start?: unknown } | null)?.start;
    if (typeof start === 'string' && !cx.updates(start))
      cx.add(['start'], `updates.${start} is not configured, so an update cannot be started`);
  },
  compile: () => ({
    name: 'update',
    live: false,
    run: () => {
      throw errors.ACTION_UNAVAILABLE('update', 'the update manager');
    },
  }),
});
