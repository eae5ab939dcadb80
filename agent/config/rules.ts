import type { RuleT } from '../reactor/schema.js';
import type { ConfigT } from './schema.js';

/**
 * Every rule a config runs: its `reactor.rules`, then the rules declared inside each service
 * (AutoPi's reactors), named `<service>.<rule>` so they come and go with their service.
 */
export function allRules(c: ConfigT): RuleT[] {
  return [
    ...c.reactor.rules,
    ...Object.entries(c.services).flatMap(([service, s]) =>
      s.reactors.map((r) => ({ ...r, name: `${service}.${r.name}` })),
    ),
  ];
}
