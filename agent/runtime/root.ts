import type { ConfigT } from '../config/schema.js';
import type { ConfigOrigin } from '../parts/context.js';
import { Agent, type AgentOptions } from './agent.js';
import { enabledParts, PARTS, type PartSpec } from './extensions.js';

/**
 * The composition root: the agent, and every part its config enables, built from the registry
 * in order, each from its own context. `pitcrew run` keeps only argv, signals and exit codes.
 */
export async function buildAgent(
  config: ConfigT,
  opts: AgentOptions & { origin: ConfigOrigin; env?: NodeJS.ProcessEnv },
  registry: readonly PartSpec[] = PARTS,
): Promise<Agent> {
  const agent = new Agent(config, opts);
  for (const spec of enabledParts(config, registry)) {
    const make = await spec.load();
    agent.use(make(agent.context(spec.section(config), opts.origin, opts.env)), spec.key);
  }
  return agent;
}
