import * as z from 'zod';
import { Args, Duration, Logic, Name, Pattern } from './common.js';

const Template = z.string();

const Emit = z.strictObject({ emit: z.strictObject({ tag: Template.min(1), data: z.unknown().optional() }) });
const Publish = z.strictObject({
  publish: z.strictObject({
    topic: Template.min(1),
    payload: z.unknown().optional(),
    qos: z.literal([0, 1, 2]).default(1),
    retain: z.boolean().default(false),
  }),
});
const Return = z.strictObject({ return: z.strictObject({ returner: z.string().min(1), data: z.unknown() }) });
const Call = z.strictObject({
  call: z.strictObject({ service: Name, handler: z.string().min(1), args: Args.default({}) }),
});
const WorkerAction = z.strictObject({
  worker: z.strictObject({ service: Name, name: Name, action: z.enum(['start', 'pause', 'resume', 'kill']) }),
});
const State = z.strictObject({
  state: z.union([
    z.strictObject({ set: z.string().min(1), value: z.unknown() }),
    z.strictObject({ delete: z.string().min(1) }),
  ]),
});
const Update = z.strictObject({ update: z.strictObject({ start: z.enum(['fota', 'sota']) }) });
const Exec = z.strictObject({
  exec: z.strictObject({ command: z.array(Template).min(1), timeout: Duration.default(30_000) }),
});
const Wait = z.strictObject({ wait: Duration });
const Log = z.strictObject({
  log: z.strictObject({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    message: Template,
  }),
});
const Stop = z.strictObject({ stop: z.union([z.string(), z.null(), z.literal(true)]) });

const NonIf = z.union([Emit, Publish, Return, Call, WorkerAction, State, Update, Exec, Wait, Log, Stop]);

export const Action = z.union([
  NonIf,
  z.strictObject({
    get if() {
      // biome-ignore lint/suspicious/noThenProperty: `if: {when, then, else}` is the config language (DESIGN §3.2)
      return z.strictObject({ when: Logic, then: z.array(Action), else: z.array(Action).default([]) });
    },
  }),
]);
export const Actions = z.array(Action);

export const ACTION_NAMES = [
  'emit',
  'publish',
  'return',
  'call',
  'worker',
  'state',
  'update',
  'exec',
  'wait',
  'log',
  'if',
  'stop',
] as const;

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

export const Reactor = z.strictObject({ rules: z.array(Rule).default([]) });

export type ActionT = z.infer<typeof Action>;
export type RuleT = z.infer<typeof Rule>;
