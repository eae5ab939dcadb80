import * as z from 'zod';
import { defineAction } from './types.js';

/**
 * Asks the `power` section to sleep, hibernate or power off the unit (DESIGN §13): its `inhibit`
 * still holds sleep and hibernation back. Said on the bus as `system/power/<action>_requested`,
 * which the power section acts on.
 */
export const power = defineAction({
  name: 'power',
  schema: z.enum(['sleep', 'hibernate', 'shutdown']),
  check: (_body, cx) => {
    if (!cx.power()) cx.add([], 'the power section is not configured, so nothing would act on this');
  },
  compile: (action, { host }) => ({
    name: 'power',
    live: false,
    run: (r) => {
      host.bus.emit(`system/power/${action}_requested`, {}, r.source);
    },
  }),
});
