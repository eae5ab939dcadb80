import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { allRules } from '../config/rules.js';
import { replay } from '../reactor/replay.js';
import { CONFIG_HELP, defaultConfig, loadOrExit } from './load-or-exit.js';
import { Progress } from './progress.js';

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
      // On a terminal, where the drive is (traces go to stdout, this to stderr).
      const progress = new Progress(
        process.stderr,
        statSync(events, { throwIfNoEntry: false })?.size ?? 0,
        'events',
      );
      const report = await replay(
        { rules: allRules(config), maxDepth: config.reactor.max_depth, unit: config.unit },
        events,
        (t) => process.stdout.write(`${JSON.stringify(t)}\n`),
        (read, n, ts) =>
          progress.update({ done: read, items: n, at: new Date(ts).toISOString().slice(0, 19) }),
      );
      progress.end();
      for (const r of report.rejected) console.error(`${events}:${r.line}: rejected: ${r.reason}`);
      console.error(
        `replayed ${report.events} events${report.rejected.length ? `, rejected ${report.rejected.length} lines` : ''}`,
      );
      if (report.rejected.length) process.exitCode = 1;
    });
}
