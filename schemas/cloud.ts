import * as z from 'zod';
import { Bytes, Duration, Logic } from './common.js';

/** Where a unit's topics live: a template over `unit`. */
export const DEFAULT_TOPIC_PREFIX = 'pitcrew/{{ unit.id }}';

export const Cloud = z.strictObject({
  mqtt: z
    .strictObject({
      /** Empty: the link is off and the outbox keeps everything. */
      url: z.string().default(''),
      client_id: z.string().default('{{ unit.id }}'),
      username: z.string().optional(),
      password: z.string().optional(),
      ca: z.string().optional(),
      cert: z.string().optional(),
      key: z.string().optional(),
      /** MQTT 5, or 3.1.1 for brokers that lack it. */
      protocol: z.union([z.literal(5), z.literal('3.1.1')]).default(5),
      keepalive: Duration.default(30_000),
      reconnect: z.strictObject({ min: Duration.default(1000), max: Duration.default(120_000) }).prefault({}),
      /**
       * JsonLogic over `{signals}`: while false the link does not try (no backoff burnt while there
       * is no network), and it connects as soon as it turns true: `{var: signals.modem.connected}`.
       */
      when: Logic.optional(),
    })
    .prefault({}),
  topic_prefix: z.string().min(1).default(DEFAULT_TOPIC_PREFIX),
  outbox: z
    .strictObject({
      max_records: z.number().int().positive().default(1_000_000),
      max_bytes: Bytes.default(256 * 1024 ** 2),
      batch: z
        .strictObject({
          max_records: z.number().int().positive().default(500),
          max_bytes: Bytes.default(256 * 1024),
          max_wait: Duration.default(1000),
        })
        .prefault({}),
      compression: z.enum(['gzip', 'none']).default('gzip'),
    })
    .prefault({}),
});

export type CloudT = z.infer<typeof Cloud>;
