import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { dump } from 'js-yaml';
import { formatIssue } from '../config/errors.js';
import { counted } from '../core/counted.js';
import { importAutopi } from '../import/autopi.js';

export function registerImport(program: Command): void {
  const cmd = program.command('import').description('convert another agent’s config into pitcrew’s');
  cmd
    .command('autopi')
    .description(
      'convert AutoPi services, workers, hooks and reactors (a pillar’s engines, or one service) into pitcrew config; ' +
        'prints the config, and on stderr each thing it could not convert as file:line:column key.path: why',
    )
    .argument('<file>', 'the AutoPi YAML')
    .option('-o, --output <file>', 'write the config here instead of stdout')
    .action((file: string, opts: { output?: string }) => {
      const { config, issues } = importAutopi(file, readFileSync(file, 'utf8'));
      const text =
        `# Converted from ${file} by pitcrew import autopi.\n` +
        `# Check it with pitcrew validate; what was not converted was listed when it ran.\n` +
        dump(config, { lineWidth: 120, noRefs: true });
      if (opts.output) writeFileSync(opts.output, text);
      else process.stdout.write(text);
      for (const issue of issues) console.error(formatIssue(issue));
      if (issues.some((i) => i.message.startsWith('YAML:'))) process.exitCode = 1;
      else if (issues.length) console.error(`${counted(issues.length, 'thing')} to look at (above)`);
    });
}
