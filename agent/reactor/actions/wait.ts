import { Duration } from '../../../schemas/common.js';
import { defineAction } from './types.js';

export const wait = defineAction({
  name: 'wait',
  schema: Duration,
  compile: (ms, { host }) => ({
    name: 'wait',
    live: false,
    run: (r) =>
      new Promise<void>((resolve) => {
        const timer = host.clock.setTimeout(resolve, ms);
        r.onCancel = () => {
          timer.cancel();
          resolve();
        };
      }),
  }),
});
