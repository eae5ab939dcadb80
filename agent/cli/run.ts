import path from 'node:path';
import type { Command } from 'commander';
import { listenerWarnings } from '../config/listeners.js';
import { ConfigMemo } from '../config/memo.js';
import { realClock, scaledClock } from '../core/clock.js';
import { within } from '../core/deadline.js';
import { createLogger } from '../core/logger.js';
import { errorCode, errors, errorText, PitcrewError } from '../errors.js';
import { codegenAllowed } from '../reactor/logic-codegen.js';
import { buildAgent } from '../runtime/root.js';
import { slowHeapGrowth } from './heap-growth.js';
import { CONFIG_HELP, defaultConfig, loadOrLastKnownGood } from './load-or-exit.js';
import { nodeSupportProblem } from './node-support.js';
import { refuseThreads, renewSnapshot, restartWithoutSnapshot, threadedServices } from './snapshot.js';

/** Shutdown must finish within this; past it the process exits anyway (DESIGN §2). */
const STOP_DEADLINE_MS = 5000;
/** How long a planned exit waits for its last log lines to be written (a reader stuck on a full pipe). */
const LOG_SETTLE_MS = 1000;

/** `snapshot`: whether the installed command started from its startup snapshot; undefined from the sources. */
export function registerRun(program: Command, snapshot?: boolean): void {
  program
    .command('run')
    .description('run the agent on a config')
    .option('-c, --config <file>', CONFIG_HELP, defaultConfig())
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
      const memo = new ConfigMemo();
      const { loaded, files, fallback, instead } = await loadOrLastKnownGood(opts.config, memo);
      const { config } = loaded;
      const { log, settled } = await createLogger(config.log.level, Boolean(opts.events));
      /** The last log lines written, in order, not cut off with a write in flight, before the process ends. */
      const logWritten = () =>
        // A reader stuck on a full pipe: past the bound, the exit's own flush makes its last attempt.
        within(realClock, LOG_SETTLE_MS, settled(), () => new Error('log not written')).catch(() => {});
      const exit = async (code: number) => {
        await logWritten();
        process.exit(code);
      };
      /** The same command, started again without the startup snapshot (a worker thread is needed). */
      const restart = async () => {
        await logWritten();
        restartWithoutSnapshot();
      };
      if (snapshot) {
        const threaded = threadedServices(config.services);
        if (threaded.length) {
          log.info(`${threaded.join(', ')} run in worker threads: starting without the startup snapshot`);
          await restart();
        }
      }
      const agent = await buildAgent(config, {
        logger: log,
        baseDir: path.dirname(loaded.file),
        // The file as configured (not the last known good that runs when it does not load): the one to watch and reload.
        origin: { file: path.resolve(opts.config), files, raw: loaded.raw, memo, loaded: instead },
        ...(scale > 1 ? { clock: scaledClock(scale) } : {}),
      });
      process.on('SIGHUP', () => void agent.reload('SIGHUP'));
      let stopping = false;
      /** Stops the agent, then `end`s: an exit with the stop's outcome, or a start again. */
      const shutdown = async (why: string, end: (code: number) => Promise<void> = exit) => {
        if (stopping) return;
        stopping = true;
        log.info(`${why}: stopping`);
        setTimeout(() => {
          log.error(`not stopped within ${STOP_DEADLINE_MS} ms; exiting`);
          process.exit(1);
        }, STOP_DEADLINE_MS).unref();
        try {
          await agent.stop();
          await end(0);
        } catch (e) {
          log.error(`stop failed: ${errorText(e)}`);
          await end(1);
        }
      };
      // From the snapshot, a thread asked for later (a module's own, a service a reload adds): the
      // agent is stopped, and started again without it.
      if (snapshot)
        refuseThreads(
          () => void shutdown('a worker thread is needed, which the startup snapshot cannot start', restart),
        );
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
      // How conditions run: generated functions, or closures where this process disallows code generation.
      const conditions = codegenAllowed() ? 'generated' : 'closures';
      log.info(
        { config: loaded.file, unit: config.unit.id, data_dir: config.unit.data_dir, snapshot, conditions },
        'starting',
      );
      for (const w of [nodeSupportProblem(), ...loaded.warnings, ...listenerWarnings(config)])
        if (w) log.warn(w);
      try {
        await agent.start();
      } catch (e) {
        // What started has been stopped again; say what failed and which setting to look at.
        const key = e instanceof PitcrewError && e.key ? ` (${e.key})` : '';
        log.error({ code: errorCode(e), key: e instanceof PitcrewError ? e.key : undefined }, errorText(e));
        console.error(`error [${errorCode(e)}]${key}: ${errorText(e)}`);
        await exit(1);
      }
      slowHeapGrowth();
      if (snapshot === false) renewSnapshot(log);
      if (fallback) agent.rejected('boot', fallback);
    });
}
