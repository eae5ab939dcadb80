import * as z from 'zod';
import { compileTemplate } from '../../core/templates.js';
import { defineAction } from './types.js';

export const emit = defineAction({
  name: 'emit',
  schema: z.strictObject({ tag: z.string().min(1), data: z.unknown().optional() }),
  compile: (b, { host }) => {
    const tag = compileTemplate(b.tag);
    const data = compileTemplate(b.data ?? {});
    return {
      name: 'emit',
      live: true,
      run: (r) => {
        const d = data(r.data);
        host.bus.emit(
          String(tag(r.data)),
          d !== null && typeof d === 'object' ? (d as Record<string, unknown>) : { value: d },
          r.source,
        );
      },
    };
  },
});
