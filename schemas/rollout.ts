import * as z from 'zod';
import { Bytes, Duration, Logic } from './common.js';

export const Rollout = z.strictObject({
  watch: z.boolean().default(false),
  debounce: Duration.default(500),
  health: z.strictObject({ window: Duration.default(120_000), when: Logic.optional() }).optional(),
  git: z
    .strictObject({
      repo: z.string().min(1),
      branch: z.string().min(1).default('main'),
      path: z.string().min(1).default('pitcrew.yaml'),
      interval: Duration.default(300_000),
      /** Most bytes a commit's files may take (what a checkout writes); a fetch is bounded by it too. */
      max_size: Bytes.default(64 * 1024 ** 2),
      /** Most files a commit may hold. */
      max_files: z.number().int().positive().default(10_000),
    })
    .optional(),
  bundles: z.strictObject({ trust: z.strictObject({ keys: z.array(z.string().min(1)).min(1) }) }).optional(),
});

export type RolloutT = z.infer<typeof Rollout>;
