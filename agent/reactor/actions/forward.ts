import * as z from 'zod';
import { compileTemplate } from '../../core/templates.js';
import { defineAction } from './types.js';

/**
 * Sends an event to the cloud (DESIGN §6, topic `events`) as `{tag, data, ts}` through the outbox,
 * on disk before the run goes on: the event that started the run, or `tag`/`data` written here.
 */
export const forward = defineAction({
  name: 'forward',
  schema: z.strictObject({
    tag: z.string().min(1).optional(),
    data: z.unknown().optional(),
  }),
  check: (body, cx) => {
    cx.templates(body, []);
    if (!cx.cloud()) cx.add([], 'forward needs a cloud section (cloud.mqtt.url) to send through');
  },
  compile: (b, { host }) => {
    const tag = b.tag === undefined ? undefined : compileTemplate(b.tag);
    const data = b.data === undefined ? undefined : compileTemplate(b.data);
    return {
      name: 'forward',
      live: false,
      run: (r) => {
        const event = r.data.event as { tag: string; data: unknown; ts: number };
        const message = {
          tag: tag ? String(tag(r.data)) : event.tag,
          data: data ? data(r.data) : event.data,
          ts: event.ts,
        };
        return host.publish('events', JSON.stringify(message), 1, false);
      },
    };
  },
});
