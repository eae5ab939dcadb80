import * as z from 'zod';
import { UpdateKind } from '../../../schemas/common.js';
import { defineAction } from './types.js';

export const update = defineAction({
  name: 'update',
  schema: z.strictObject({ start: UpdateKind }),
  check: (body, cx) => {
    const start = (body as { start?: unknown } | null)?.start;
    if (typeof start === 'string' && !cx.updates(start))
      cx.add(['start'], `updates.${start} is not configured, so an update cannot be started`);
  },
  compile: (b, { host }) => ({
    name: 'update',
    live: false,
    run: () => host.startUpdate(b.start),
  }),
});
