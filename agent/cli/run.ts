import path from 'node:path';
import type { Command } from 'commander';
import { listenerWarnings } from '../config/listeners.js';
import { ControlServer } from '../control/server.js';
import { scaledClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import { errorCode, errors, errorText, PitcrewError } from '../errors.js';
import { BundleReceiver } from '../rollout/bundles.js';
import { GitRollout } from '../rollout/git-rollout.js';
import { Reloader } from '../rollout/reloader.js';
import { createAgent } from '../runtime/agent.js';
import { SystemdNotify } from '../systemd/notify.js';
import { DEFAULT_CONFIG, loadOrLastKnownGood } from './load-or-exit.js';
import { nodeSupportProblem } from './node-support.js';

/** Shutdown must finish within this; past it the process exits anyway (DESIGN §2). */
const STOP_DEADLINE_MS = 5000;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the agent on a config')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--events', 'print every bus event as one JSON line on stdout (logs go to stderr)')
    .option(
      '--time-scale <factor>',
      'run all time N times faster (soak tests, demos): 60 = an hour a minute',
      '1',
    )
    .action(async (opts: { config: string; events?: boolean; timeScale: string }) => {
      const scale = Number(opts.timeScale);
      if (!(scale >= 1 && scale <= 3600))
        throw errors.CLI_ARG(`--time-scale takes a number from 1 to 3600, not ${opts.timeScale}`);
      const { loaded, files, fallback } = await loadOrLastKnownGood(opts.config);
      const { config } = loaded;
      const log = await createLogger(config.log.level, Boolean(opts.events));
      const agent = createAgent(config, {
        logger: log,
        baseDir: path.dirname(loaded.file),
        ...(scale > 1 ? { clock: scaledClock(scale) } : {}),
      });
      agent.use(new ControlServer(agent, config.control.socket), 'control.socket');
      agent.use(new SystemdNotify(agent, process.env, log));
      const reloader = new Reloader(agent, opts.config, files, loaded.raw);
      agent.use(reloader, 'rollout');
      const git = config.rollout?.git && new GitRollout(agent, reloader, config.rollout.git);
      if (git) agent.use(git, 'rollout.git');
      const trust = config.rollout?.bundles?.trust.keys;
      if (trust) agent.use(new BundleReceiver(agent, reloader, trust), 'rollout.bundles');
      agent.rollout = git
        ? { status: () => git.status(), pull: () => git.pull() }
        : {
            status: () => ({ source: 'file', file: loaded.file, ...agent.status().config }),
            pull: async () => void (await reloader.reload('pull')),
          };
      process.on('SIGHUP', () => void reloader.reload('SIGHUP'));
      if (config.updates) {
        // Loaded only when configured: an agent that takes no updates never loads gRPC or tar.
        const { UpdateManager } = await import('../updates/manager.js');
        const updates = new UpdateManager(agent, config.updates);
        agent.use(updates, 'updates');
        agent.updates = updates;
      }
      if (config.metrics) {
        // Loaded only when configured: an agent without metrics never loads prom-client.
        const { MetricsServer } = await import('../metrics/metrics-server.js');
        agent.use(new MetricsServer(agent, config.metrics.listen), 'metrics.listen');
      }
      let stopping = false;
      const shutdown = async (why: string) => {
        if (stopping) return;
        stopping = true;
        log.info(`${why}: stopping`);
        setTimeout(() => {
          log.error(`not stopped within ${STOP_DEADLINE_MS} ms; exiting`);
          process.exit(1);
        }, STOP_DEADLINE_MS).unref();
        try {
          await agent.stop();
          process.exit(0);
        } catch (e) {
          log.error(`stop failed: ${errorText(e)}`);
          process.exit(1);
        }
      };
      if (opts.events) {
        let reading = true;
        // The events are the output: when their reader goes away (`| head`), the agent stops, gracefully.
        process.stdout.on('error', () => {
          reading = false;
          void shutdown('events reader gone');
        });
        agent.bus.on('#', (e) => {
          if (reading) process.stdout.write(`${JSON.stringify(e)}\n`);
        });
      } else {
        agent.bus.on('vehicle/#', (e) => log.info(e.data, e.tag));
        agent.bus.on('system/#', (e) => log.info(e.data, e.tag));
      }

      process.on('SIGTERM', () => void shutdown('SIGTERM'));
      process.on('SIGINT', () => void shutdown('SIGINT'));
      log.info({ config: loaded.file, unit: config.unit.id, data_dir: config.unit.data_dir }, 'starting');
      for (const w of [nodeSupportProblem(), ...listenerWarnings(config)]) if (w) log.warn(w);
      try {
        await agent.start();
      } catch (e) {
        // What started has been stopped again; say what failed and which setting to look at.
        const key = e instanceof PitcrewError && e.key ? ` (${e.key})` : '';
        log.error({ code: errorCode(e), key: e instanceof PitcrewError ? e.key : undefined }, errorText(e));
        console.error(`error [${errorCode(e)}]${key}: ${errorText(e)}`);
        process.exit(1);
      }
      if (fallback)
        agent.rejected('boot', [
          `${opts.config} does not load; running the last known good config`,
          ...fallback,
        ]);
    });
}
