/**
 * The registry of the agent's parts, keyed by config section: one entry per part says where its
 * settings are, when it runs, what it needs from the parts before it, whether a change to its
 * section applies live, and how to load it (loaded only when enabled, so an agent without
 * `updates` never loads gRPC or tar). Adding a section is one file of its own and one line here.
 */
import type { ConfigT } from '../config/schema.js';
import { errors } from '../errors.js';
import type { Part, PartContext, PortName } from '../parts/context.js';

export interface PartSpec<S = unknown> {
  /** The config key a failure to start names (`control.socket`, `updates`). */
  key: string;
  /** Its settings in the config, undefined when the section is absent. */
  section(config: ConfigT): S | undefined;
  /** Whether it runs; by default, when its section is there. */
  enabled?(config: ConfigT): boolean;
  /** Ports a part before it must provide (checked at registration). */
  needs?: PortName[];
  /** Ports it provides to the parts after it. */
  provides?: PortName[];
  /** A change to its section applies without a restart. */
  live?: boolean;
  load(): Promise<(cx: PartContext<S>) => Part>;
}

const part = <S>(spec: PartSpec<S>) => spec as PartSpec<unknown>;

/** In start order: a part comes after the parts it needs. */
export const PARTS: PartSpec[] = [
  part({
    key: 'rollout',
    section: (c) => c.rollout,
    enabled: () => true,
    provides: ['reloader', 'rollout'],
    load: async () => {
      const { Reloader } = await import('../rollout/reloader.js');
      return (cx) => new Reloader(cx);
    },
  }),
  part({
    key: 'rollout.git',
    section: (c) => c.rollout?.git,
    needs: ['reloader'],
    provides: ['rollout'],
    load: async () => {
      const { GitRollout } = await import('../rollout/git-rollout.js');
      return (cx) => new GitRollout(cx);
    },
  }),
  part({
    key: 'rollout.bundles',
    section: (c) => c.rollout?.bundles,
    needs: ['reloader'],
    provides: ['bundles'],
    load: async () => {
      const { BundleReceiver } = await import('../rollout/bundles.js');
      return (cx) => new BundleReceiver(cx);
    },
  }),
  part({
    key: 'updates',
    section: (c) => c.updates,
    provides: ['updates'],
    load: async () => {
      const { UpdateManager } = await import('../updates/manager.js');
      return (cx) => new UpdateManager(cx);
    },
  }),
  part({
    key: 'power',
    section: (c) => c.power,
    provides: ['power'],
    load: async () => {
      const { PowerManager } = await import('../power/power-manager.js');
      return (cx) => new PowerManager(cx);
    },
  }),
  part({
    key: 'storage',
    section: (c) => c.storage,
    provides: ['storage'],
    load: async () => {
      const { Housekeeper } = await import('../storage/housekeeper.js');
      return (cx) => new Housekeeper(cx);
    },
  }),
  part({
    key: 'metrics.listen',
    section: (c) => c.metrics,
    load: async () => {
      const { MetricsServer } = await import('../metrics/metrics-server.js');
      return (cx) => new MetricsServer(cx);
    },
  }),
  part({
    key: 'control.socket',
    section: (c) => c.control,
    needs: ['rollout'],
    load: async () => {
      const { ControlServer } = await import('../control/server.js');
      return (cx) => new ControlServer(cx);
    },
  }),
  // Last: READY=1 goes to systemd once everything before it has started.
  part({
    key: 'systemd',
    section: () => undefined,
    enabled: () => true,
    load: async () => {
      const { SystemdNotify } = await import('../systemd/notify.js');
      return (cx) => new SystemdNotify(cx);
    },
  }),
];

/** Sections of the kernel (services, rules) that a running agent takes on without a restart. */
const KERNEL_LIVE = ['services', 'reactor', 'include', 'version'];

/** Every top-level config section a running agent takes on without a restart: the kernel's, and live parts'. */
export const LIVE_SECTIONS: ReadonlySet<string> = new Set([
  ...KERNEL_LIVE,
  ...PARTS.filter((p) => p.live).map((p) => p.key.split('.')[0]!),
]);

/** The parts a config enables, in start order; a part whose needs no part before it provides is refused. */
export function enabledParts(config: ConfigT, registry: readonly PartSpec[] = PARTS): PartSpec[] {
  const on = registry.filter((p) => (p.enabled ? p.enabled(config) : p.section(config) !== undefined));
  const provided = new Set<PortName>();
  for (const p of on) {
    for (const need of p.needs ?? [])
      if (!provided.has(need))
        throw errors.PART_NEEDS(
          p.key,
          need,
          on.map((o) => o.key),
        );
    for (const port of p.provides ?? []) provided.add(port);
  }
  return on;
}
