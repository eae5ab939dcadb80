import * as z from 'zod';
import { compileTemplate } from '../../core/templates.js';
import { defineAction } from './types.js';

export const state = defineAction({
  name: 'state',
  schema: z.union([
    z.strictObject({ set: z.string().min(1), value: z.unknown() }),
    z.strictObject({ delete: z.string().min(1) }),
  ]),
  compile: (b, { host }) => {
    if ('delete' in b) {
      const key = compileTemplate(b.delete);
      return { name: 'state', live: true, run: (r) => host.state.delete(String(key(r.data))) };
    }
    const key = compileTemplate(b.set);
    const value = compileTemplate(b.value);
    return { name: 'state', live: true, run: (r) => host.state.set(String(key(r.data)), value(r.data)) };
  },
});
