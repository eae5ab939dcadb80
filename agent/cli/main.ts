import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ConfigError, printIssues } from '../config/errors.js';
import { listenerWarnings } from '../config/listeners.js';
import { loadChecked } from '../config/load.js';
import { allRules } from '../config/rules.js';
import { JSON_SCHEMAS, type SchemaFile } from '../config/schema.js';
import { counted } from '../core/counted.js';
import { type ModuleImporter, useImporter } from '../core/load-module.js';
import { errorCode, errorText } from '../errors.js';
import { registerBundle } from './bundle.js';
import { registerCan } from './can.js';
import { registerControl } from './control.js';
import { addExamples } from './examples.js';
import { registerFleet } from './fleet.js';
import { registerImport } from './import.js';
import { CONFIG_HELP, defaultConfig } from './load-or-exit.js';
import { registerLogic } from './logic.js';
import { rehearseStart } from './rehearsal.js';
import { registerReplay } from './replay.js';
import { registerRun } from './run.js';
import { registerScaffold } from './scaffold.js';
import { registerSnapshot } from './snapshot.js';

/** package.json sits above agent/ in a checkout and above dist/agent/ when built. */
function packageVersion(): string {
  for (
    let dir = path.dirname(fileURLToPath(import.meta.url));
    dir !== path.dirname(dir);
    dir = path.dirname(dir)
  ) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}

export interface MainOptions {
  /**
   * How user modules are imported. The installed command passes its own `import()`: code compiled
   * through the compile cache has no dynamic-import callback of its own.
   */
  importModule?: ModuleImporter;
  /** Set by the installed command: whether this process started from its startup snapshot. */
  snapshot?: boolean;
}

/**
 * What the startup snapshot runs once as it is built, so that the code a start runs is compiled in
 * it: the command line parsed as a start parses it (up to its action), and a start of the bundled
 * default config rehearsed (rehearsal.ts), which says what it did. Nothing else is printed, and
 * nothing it reads (the environment, the time) is kept: a run loads its own config and builds its
 * own agent.
 */
export async function warmUp(): Promise<string> {
  const file = fileURLToPath(new URL('../../config/pitcrew.yaml', import.meta.url));
  const argv = ['node', 'pitcrew', 'run', '-c', file, '--events'];
  const parsed = new Error('parsed');
  await command({}, argv)
    .hook('preAction', () => {
      throw parsed;
    })
    .parseAsync(argv)
    .catch((e: unknown) => {
      if (e !== parsed) throw e;
    });
  return rehearseStart(file);
}

function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'check a config and all it includes; prints every error as file:line:column key.path: reason',
    )
    .argument('[file]', 'the config to check, as -c names it')
    .option('-c, --config <file>', CONFIG_HELP, defaultConfig())
    .action(async (given: string | undefined, opts: { config: string }, cmd: Command) => {
      if (given !== undefined && cmd.getOptionValueSource('config') === 'cli' && given !== opts.config)
        cmd.error(`error: two configs to check, ${given} and -c ${opts.config}: name one`);
      const file = given ?? opts.config;
      try {
        const loaded = await loadChecked(file);
        const c = loaded.config;
        for (const w of [...loaded.warnings, ...listenerWarnings(c)]) console.error(`warning: ${w}`);
        console.log(
          `${file}: ok (${counted(loaded.files.length, 'file')}, ` +
            `${counted(Object.keys(c.services).length, 'service')}, ${counted(allRules(c).length, 'rule')})`,
        );
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        printIssues(e);
        process.exitCode = 1;
      }
    });
}

function registerSchema(program: Command): void {
  const schemaNames = Object.keys(JSON_SCHEMAS).map((f) => f.replace('.schema.json', ''));
  program
    .command('schema')
    .description(`print a JSON Schema: ${schemaNames.join(', ')} (default pitcrew, the config language)`)
    .argument('[name]', 'which schema', 'pitcrew')
    .action(async (name: string) => {
      const file = `${name}.schema.json`;
      if (!(file in JSON_SCHEMAS))
        program.error(`unknown schema '${name}'; choose one of ${schemaNames.join(', ')}`);
      // Loaded on demand: JSON Schema generation is not part of running an agent.
      const { jsonSchemaOf } = await import('../config/json-schema.js');
      console.log(JSON.stringify(jsonSchemaOf(file as SchemaFile), null, 2));
    });
}

/**
 * The subcommands, each registration with the top-level commands it adds (a test holds the two
 * together). A command line that names one of them gets that registration alone, which is all it
 * parses with: building every other command's options and help was ~1 ms of each start. Any other
 * command line (help, a misspelt command, none) gets them all.
 */
export const SUBCOMMANDS: readonly {
  names: readonly string[];
  register: (program: Command, opts: MainOptions) => void;
}[] = [
  { names: ['validate'], register: registerValidate },
  { names: ['schema'], register: registerSchema },
  { names: ['run'], register: (program, opts) => registerRun(program, opts.snapshot) },
  {
    names: [
      'tap',
      'status',
      'rollout',
      'update',
      'power',
      'signals',
      'worker',
      'emit',
      'rules',
      'trace',
      'call',
    ],
    register: registerControl,
  },
  { names: ['replay'], register: registerReplay },
  { names: ['logic'], register: registerLogic },
  { names: ['can'], register: registerCan },
  { names: ['keygen', 'bundle', 'desired'], register: registerBundle },
  { names: ['new', 'test'], register: registerScaffold },
  { names: ['import'], register: registerImport },
  { names: ['fleet'], register: registerFleet },
  { names: ['snapshot'], register: registerSnapshot },
];

/** The `pitcrew` command: the subcommands `argv` names registered (all of them, without `argv`). */
export function command(opts: MainOptions, argv?: readonly string[]): Command {
  const program = new Command('pitcrew')
    .description('Declarative edge agent for connected vehicles')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError();
  const named = argv?.[2];
  const only = SUBCOMMANDS.find((s) => named !== undefined && s.names.includes(named));
  for (const s of only ? [only] : SUBCOMMANDS) s.register(program, opts);
  addExamples(program);
  return program;
}

/** The `pitcrew` command, run. */
export async function main(argv: string[], opts: MainOptions = {}): Promise<void> {
  if (opts.importModule) useImporter(opts.importModule);
  await command(opts, argv)
    .parseAsync(argv)
    .catch((e: unknown) => {
      console.error(`error [${errorCode(e)}]: ${errorText(e)}`);
      process.exitCode = 1;
    });
}
