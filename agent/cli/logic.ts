import type { Command } from 'commander';
import { compileLogic } from '../reactor/logic.js';
import { jsonArg } from './json-arg.js';

export function registerLogic(program: Command): void {
  program
    .command('logic')
    .description('evaluate a JsonLogic expression against data and print the result as JSON')
    .argument('<logic>', 'the expression, e.g. \'{">": [{"var": "speed"}, 100]}\'')
    .argument('[data]', 'the data as JSON', '{}')
    .option('--timezone <zone>', 'IANA time zone for in_timetable')
    .action((logic: string, data: string, opts: { timezone?: string }) => {
      const f = compileLogic(jsonArg(logic, 'logic'), { timezone: opts.timezone });
      console.log(JSON.stringify(f(jsonArg(data, 'data')) ?? null));
    });
}
