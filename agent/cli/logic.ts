import type { Command } from 'commander';
import { compileLogic } from '../reactor/logic.js';

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not JSON: ${text}`);
  }
}

export function registerLogic(program: Command): void {
  program
    .command('logic')
    .description('evaluate a JsonLogic expression against data and print the result as JSON')
    .argument('<logic>', 'the expression, e.g. \'{">": [{"var": "speed"}, 100]}\'')
    .argument('[data]', 'the data as JSON', '{}')
    .option('--timezone <zone>', 'IANA time zone for in_timetable')
    .action((logic: string, data: string, opts: { timezone?: string }) => {
      const f = compileLogic(json(logic, 'logic'), { timezone: opts.timezone });
      console.log(JSON.stringify(f(json(data, 'data')) ?? null));
    });
}
