import { listenerWarnings } from './listeners.js';
import type { ConfigT } from './schema.js';

/**
 * `rollout.git` and `rollout.bundles` together: a bundle is laid over the config file, not over
 * the commit, and the next commit applied replaces it; at a start, the commit's config runs.
 */
function rolloutWarnings(config: ConfigT): string[] {
  return config.rollout?.git && config.rollout.bundles
    ? [
        'rollout.git and rollout.bundles both decide what runs: a bundle is laid over the config file, not over the commit, and the next commit applied (or a restart) replaces it; use one of them',
      ]
    : [];
}

/** What `validate` and `run` say about a valid config: listeners the network reaches, rollout sources that undo each other. */
export function configWarnings(config: ConfigT): string[] {
  return [...listenerWarnings(config), ...rolloutWarnings(config)];
}
