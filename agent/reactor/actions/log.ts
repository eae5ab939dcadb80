import * as z from 'zod';
import { messageWriter } from '../../core/logger.js';
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
    // A child logger for the run's source (its rule's, the same for every run): pino writes its
    // `source` once, not per line from an object. Made with the first run (a run's source is set).
    let source: string | undefined;
    let write!: (msg: string) => void;
    return {
      name: 'log',
      live: false,
      run: (r) => {
        if (r.source !== source) {
          source = r.source;
          write = messageWriter(host.log.child({ source }), b.level);
        }
        write(String(message(r.data)));
      },
    };
  },
});
