import * as z from 'zod';
import { compileTemplate, isWholeTemplate } from '../../core/templates.js';
import type { Result } from '../../core/types.js';
import { errors } from '../errors.js';
import { defineAction } from './types.js';

/**
 * Why `data` can never be a result, when it cannot: a template string may yield one at run time,
 * a literal without a `type` never does.
 */
function neverAResult(data: unknown): string | undefined {
  if (typeof data === 'string') return isWholeTemplate(data) ? undefined : 'data is text';
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return 'data is not a map';
  const type = (data as { type?: unknown }).type;
  if (type === undefined) return 'data has no type';
  if (typeof type !== 'string') return 'its type is not text';
  return undefined;
}

export const returnAction = defineAction({
  name: 'return',
  schema: z.strictObject({ returner: z.string().min(1), data: z.unknown() }),
  check: (body, cx) => {
    cx.templates(body, []);
    const { returner, data } = (body ?? {}) as { returner?: unknown; data?: unknown };
    if (typeof returner === 'string') cx.returner(returner, ['returner']);
    const why = neverAResult(data);
    if (why)
      cx.add(
        ['data'],
        `a returner takes a result {type, value, …}: ${why}; to send an event to the cloud, use forward`,
      );
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
