import * as z from 'zod';
import { Duration, Logic, Name, Pattern } from '../../schemas/common.js';
import { Action } from './actions/index.js';

export { Action, type ActionT } from './actions/index.js';

const Actions = z.array(Action);

export const Rule = z.strictObject({
  name: Name,
  description: z.string().optional(),
  enabled: z.boolean().default(true),
  on: z.union([Pattern, z.array(Pattern).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
  when: Logic.optional(),
  for: Duration.default(0),
  throttle: Duration.default(0),
  debounce: Duration.default(0),
  mode: z.enum(['single', 'restart', 'queued', 'parallel']).default('single'),
  max: z.number().int().min(1).default(10),
  do: Actions.min(1),
  else: Actions.default([]),
});

export const Reactor = z.strictObject({
  rules: z.array(Rule).default([]),
  /** Longest chain of rules triggering each other before an event is dropped as a loop. */
  max_depth: z.number().int().min(1).max(100).default(8),
});

export type RuleT = z.infer<typeof Rule>;
