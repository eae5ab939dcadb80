import { Config } from './config.js';
import { Bundle, DesiredStatus, Event, SignedEnvelope } from './wire.js';

export * from './cloud.js';
export * from './common.js';
export * from './config.js';
export * from './drivers.js';
export * from './reactor.js';
export * from './rollout.js';
export * from './services.js';
export * from './updates.js';
export * from './wire.js';

/** Every published JSON Schema: file name → zod schema. */
export const JSON_SCHEMAS = {
  'pitcrew.schema.json': Config,
  'desired-status.schema.json': DesiredStatus,
  'bundle.schema.json': Bundle,
  'envelope.schema.json': SignedEnvelope,
  'event.schema.json': Event,
} as const;

export type SchemaFile = keyof typeof JSON_SCHEMAS;
