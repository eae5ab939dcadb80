import * as z from 'zod';
import { compileTemplate } from '../../core/templates.js';
import { defineAction } from './types.js';

export const log = defineAction({
  name: 'log',
  schema: z.strictObject({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    message: z.string(),
  }),
  compile: (b, { host }) => {
    const message = compileTemplate(b.message);
    return {
      name: 'log',
      live: false,
      run: (r) => host.log[b.level]({ source: r.source }, String(message(r.data))),
    };
  },
});
