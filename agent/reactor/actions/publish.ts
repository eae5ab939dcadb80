import * as z from 'zod';
import { compileTemplate } from '../../core/templates.js';
import { defineAction } from './types.js';

/**
 * Sends a message to `<topic_prefix>/<topic>` through the outbox: on disk before the run goes on,
 * published in order with the unit's records once the link is up.
 */
export const publish = defineAction({
  name: 'publish',
  schema: z.strictObject({
    topic: z.string().min(1),
    payload: z.unknown().optional(),
    qos: z.literal([0, 1, 2]).default(1),
    retain: z.boolean().default(false),
  }),
  check: (body, cx) => {
    cx.templates(body, []);
    if (!cx.cloud()) cx.add(['topic'], 'publish needs a cloud section (cloud.mqtt.url) to send through');
  },
  compile: (b, { host }) => {
    const topic = compileTemplate(b.topic);
    const payload = compileTemplate(b.payload ?? {});
    return {
      name: 'publish',
      live: false,
      run: (r) => {
        const p = payload(r.data);
        return host.publish(
          String(topic(r.data)),
          typeof p === 'string' ? p : JSON.stringify(p),
          b.qos,
          b.retain,
        );
      },
    };
  },
});
