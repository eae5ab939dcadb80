import * as z from 'zod';
import { compileTemplate } from '../../core/templates.js';
import type { Result } from '../../core/types.js';
import { errors } from '../../errors.js';
import { defineAction } from './types.js';

export const returnAction = defineAction({
  name: 'return',
  schema: z.strictObject({ returner: z.string().min(1), data: z.unknown() }),
  check: (body, cx) => {
    cx.templates(body, []);
    const returner = (body as { returner?: unknown } | null)?.returner;
    if (typeof returner === 'string') cx.returner(returner, ['returner']);
  },
  compile: (b, { host }) => {
    const data = compileTemplate(b.data);
    // Resolved once, as the rule is compiled; a returner that cannot be built fails each run that reaches it.
    const returner = host.returner(b.returner);
    returner.catch(() => {});
    return {
      name: 'return',
      live: false,
      carries: true,
      run: async (r) => {
        const d = data(r.data) as Partial<Result> | null;
        if (!d || typeof d !== 'object' || typeof d.type !== 'string') throw errors.RETURN_INVALID();
        await (await returner)({
          ...d,
          type: d.type,
          value: d.value,
          ts: typeof d.ts === 'number' ? d.ts : host.clock.now(),
        });
      },
    };
  },
});
