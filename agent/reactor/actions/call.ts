import * as z from 'zod';
import { Args, Duration, Name } from '../../../schemas/common.js';
import { compileTemplate } from '../../core/templates.js';
import { defineAction } from './types.js';

type Body = { service?: unknown; handler?: unknown; args?: unknown } | null;

export const call = defineAction({
  name: 'call',
  schema: z.strictObject({
    service: Name,
    handler: z.string().min(1),
    args: Args.default({}),
    /** As a message's: past it the call fails with PITCREW_MESSAGE_TIMEOUT (a `mode: single` rule is free again). */
    timeout: Duration.default(10_000),
  }),
  check: (body, cx) => {
    cx.templates(body, []);
    const b = body as Body;
    if (typeof b?.service === 'string' && cx.service(b.service, ['service']) && typeof b.handler === 'string')
      cx.handler(b.service, b.handler, ['handler']);
  },
  compile: (b, { host }) => {
    const args = compileTemplate(b.args);
    return {
      name: 'call',
      live: false,
      writesResult: true,
      carries: true,
      run: async (r) => {
        r.data.result = await host.call(
          b.service,
          b.handler,
          args(r.data) as Record<string, unknown>,
          b.timeout,
        );
      },
    };
  },
});
