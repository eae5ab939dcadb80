import type { Command } from 'commander';
import { replay } from '../reactor/replay.js';
import { CONFIG_HELP, defaultConfig, loadOrExit } from './load-or-exit.js';

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'dry run: the config’s rules over recorded events (JSON lines {tag, data, ts}); prints one trace per line',
    )
    .option('-c, --config <file>', CONFIG_HELP, defaultConfig())
    .argument('<events>', 'recorded events, e.g. from `pitcrew run --events`')
    .action(async (events: string, opts: { config: string }) => {
      const { config } = await loadOrExit(opts.config, false);
      const report = await replay(
        { rules: config.reactor.rules, maxDepth: config.reactor.max_depth, unit: config.unit },
        events,
        (t) => process.stdout.write(`${JSON.stringify(t)}\n`),
      );
      for (const r of report.rejected) console.error(`${events}:${r.line}: rejected: ${r.reason}`);
      console.error(
        `replayed ${report.events} events${report.rejected.length ? `, rejected ${report.rejected.length} lines` : ''}`,
      );
      if (report.rejected.length) process.exitCode = 1;
    });
}
