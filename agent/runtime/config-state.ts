import { createHash } from 'node:crypto';
import type { CloudLink } from '../cloud/cloud-link.js';
import { wireError } from '../cloud/wire-error.js';
import { type ConfigDiff, moduleFiles } from '../config/diff.js';
import type { ConfigT } from '../config/schema.js';
import type { Bus } from '../core/bus.js';
import { moduleStamp } from '../core/load-module.js';
import type { Logger } from '../core/logger.js';
import type { AgentStatus } from '../parts/context.js';

/** Each rule's JSON, by the rule: a reload keeps the rules that did not change as they were (the config memo). */
const ruleJson = new WeakMap<object, string>();

/** A short digest of a config: its version in the unit status until rollout names one. */
export function configVersion(config: ConfigT): string {
  const hash = createHash('sha256').update(
    JSON.stringify({ ...config, reactor: { ...config.reactor, rules: [] } }),
  );
  for (const rule of config.reactor.rules) {
    let json = ruleJson.get(rule);
    if (json === undefined) {
      json = JSON.stringify(rule);
      ruleJson.set(rule, json);
    }
    hash.update(json);
  }
  return hash.digest('hex').slice(0, 12);
}

/**
 * The running config's side of live reconfiguration (DESIGN §8): its version, whether the last
 * change was taken, refused or reverted (log, event, unit status), and when each module file its
 * services run last changed, so a module edited on disk restarts its services on the next apply.
 */
export class ConfigState {
  /** The running config's digest, worked out when it changes (status asks for it often). */
  version: string;
  private outcome: Omit<AgentStatus['config'], 'version'> = { status: 'installed' };
  private moduleStamps = new Map<string, number>();

  constructor(
    config: ConfigT,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly cloud: () => CloudLink | undefined,
  ) {
    this.version = configVersion(config);
  }

  /** A config now runs: its version, and the times of the module files its services run. */
  running(config: ConfigT): void {
    this.version = configVersion(config);
    this.moduleStamps = new Map(
      Object.values(config.services).flatMap((s) => moduleFiles(s).map((f) => [f, moduleStamp(f)] as const)),
    );
  }

  /** Module files changed on disk since: the services that run them restart on the next apply. */
  changedModules(): Set<string> {
    return new Set([...this.moduleStamps].filter(([f, t]) => moduleStamp(f) !== t).map(([f]) => f));
  }

  /** A new config was applied: taken, said in the log, as `system/config/applied` and in the unit status. */
  applied(diff: ConfigDiff): void {
    const version = this.version;
    this.outcome = { status: 'installed' };
    this.cloud()?.update('config', 'agent', { version, status: 'installed', errorInfo: null });
    this.log.info({ version, services: diff.services, rules: diff.rules }, 'config applied');
    this.bus.emit('system/config/applied', { version, services: diff.services, rules: diff.rules }, 'agent');
  }

  status(): AgentStatus['config'] {
    return { version: this.version, ...this.outcome };
  }

  /**
   * A config change was refused. `shared` is what may leave the unit (status, events): for a git
   * commit, positions without the messages, which can quote the files; the log has `reasons` whole.
   */
  rejected(source: string, reasons: string[], shared: string[] = reasons): void {
    this.log.error({ source, reasons }, `config from ${source} rejected: ${reasons.join('; ')}`);
    this.outcome = { status: 'error', errorInfo: { source, reasons: shared } };
    this.cloud()?.update('config', 'agent', {
      version: this.version,
      status: 'error',
      errorInfo: wireError({
        code: 'PITCREW_CONFIG_INVALID',
        message: `from ${source}: ${shared.join('; ')}`,
      }),
    });
    this.bus.emit('system/config/rejected', { source, reasons: shared, running: this.version }, 'agent');
  }

  /** A config that failed its health check and was replaced by the previous one (DESIGN §8). */
  reverted(reason: string, failed: ConfigT): void {
    const version = configVersion(failed);
    this.log.error({ reason, version }, `config ${version} reverted: ${reason}`);
    this.outcome = {
      status: 'error',
      errorInfo: { source: 'health', reasons: [`${version} reverted: ${reason}`] },
    };
    this.cloud()?.update('config', 'agent', {
      version: this.version,
      status: 'installed',
      errorInfo: wireError({ message: `${version} reverted: ${reason}` }),
    });
    this.bus.emit('system/config/reverted', { reason, reverted: version, running: this.version }, 'agent');
  }
}
