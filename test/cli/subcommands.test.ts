/**
 * The command registers only the subcommand a command line names (agent/cli/main.ts): each
 * registration adds exactly the commands it is listed with, and any other command line gets all.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { command, SUBCOMMANDS } from '../../agent/cli/main.js';
import { runBin } from '../helpers/cli.js';

const names = (program: Command) => program.commands.map((c) => c.name());

describe('pitcrew subcommands', () => {
  it('each registration adds the commands it is listed with, and together they are the whole command', () => {
    for (const { names: listed, register } of SUBCOMMANDS) {
      const program = new Command('pitcrew');
      register(program, {});
      assert.deepEqual(names(program), listed);
    }
    const all = SUBCOMMANDS.flatMap((s) => s.names);
    assert.deepEqual(names(command({})), all);
    assert.equal(new Set(all).size, all.length);
  });

  it('a command line naming one gets that registration alone; help, a misspelling or none get all', () => {
    const argv = (...args: string[]) => ['node', 'pitcrew', ...args];
    assert.deepEqual(names(command({}, argv('run', '--events'))), ['run']);
    assert.deepEqual(
      names(command({}, argv('status'))),
      SUBCOMMANDS.find((s) => s.names.includes('status'))!.names,
    );
    const all = names(command({}));
    for (const line of [argv('help', 'run'), argv('rnu'), argv('--help'), argv()])
      assert.deepEqual(names(command({}, line)), all, line.join(' '));
  });

  it('the installed command still helps with a misspelt command', async () => {
    const r = await runBin(['rnu']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown command 'rnu'[\s\S]*Did you mean run\?/);
  });
});
