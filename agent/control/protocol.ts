import * as z from 'zod';

/** One request per line on the control socket; one response line per request. */
export const ControlRequest = z.strictObject({
  id: z.union([z.string(), z.number()]).optional(),
  cmd: z.enum([
    'status',
    'worker',
    'emit',
    'call',
    'rules',
    'trace',
    'signals',
    'rollout',
    'update',
    'power',
    'tap',
  ]),
  args: z.record(z.string(), z.unknown()).default({}),
});

export type ControlRequestT = z.infer<typeof ControlRequest>;

export type ControlResponse =
  | { id?: string | number; ok: true; result: unknown }
  | { id?: string | number; ok: false; code: string; error: string };
