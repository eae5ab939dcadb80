import * as z from 'zod';
import { Name, WorkerAction } from '../../../schemas/common.js';
import { defineAction } from './types.js';

type Body = { service?: unknown; name?: unknown } | null;

export const worker = defineAction({
  name: 'worker',
  schema: z.strictObject({ service: Name, name: Name, action: WorkerAction }),
  check: (body, cx) => {
    const b = body as Body;
    if (typeof b?.service === 'string' && cx.service(b.service, ['service']) && typeof b.name === 'string')
      cx.worker(b.service, b.name, ['name']);
  },
  compile: (b, { host }) => ({
    name: 'worker',
    live: false,
    run: () => host.worker(b.service, b.name, b.action),
  }),
});
