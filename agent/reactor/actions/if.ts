import * as z from 'zod';
import { Logic } from '../../../schemas/common.js';
import { execute } from '../execute.js';
import { defineAction } from './types.js';

type Body = { when?: unknown; then?: unknown; else?: unknown } | null;

export const ifAction = defineAction({
  name: 'if',
  schema: (action) =>
    z.strictObject({
      when: Logic,
      // biome-ignore lint/suspicious/noThenProperty: `if: {when, then, else}` is the config language (DESIGN §3.2)
      then: z.array(action),
      else: z.array(action).default([]),
    }),
  check: (body, cx) => {
    const b = body as Body;
    if (b?.when !== undefined) cx.logic(b.when, ['when']);
    cx.actions(b?.then, ['then']);
    cx.actions(b?.else, ['else']);
  },
  compile: (b, env) => {
    const when = env.condition(b.when);
    const then = env.compile(b.then);
    const otherwise = env.compile(b.else);
    return {
      name: 'if',
      live: true,
      writesResult: [...then, ...otherwise].some((a) => a.writesResult),
      run: (r) => execute(r, when(r.data) ? then : otherwise, env),
    };
  },
});
