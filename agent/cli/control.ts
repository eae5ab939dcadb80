import type { Command } from 'commander';
import { request, tapEvents } from '../control/client.js';
import type { ControlRequestT } from '../control/protocol.js';
import { errors } from '../errors.js';
import type { AgentStatus, PowerStatus } from '../parts/context.js';
import { durationArg, jsonArg } from './json-arg.js';
import { CONFIG_HELP, defaultConfig, socketOrExit } from './load-or-exit.js';
import { ago, human, powerText, short, statusText } from './status-text.js';

interface SocketOpts {
  config: string;
  socket?: string;
}

type Print = (result: unknown) => void;
const oneLine: Print = (r) => console.log(JSON.stringify(r));
const pretty: Print = (r) => console.log(JSON.stringify(r, null, 2));
const linePerItem: Print = (r) => {
  for (const item of r as unknown[]) console.log(JSON.stringify(item));
};

/** Text for a person on a terminal; JSON with --json or when piped. */

const signalLines: Print = (r) => {
  for (const s of r as { signal: string; value: unknown; unit?: string; age_ms: number }[])
    console.log(`${s.signal} ${short(s.value)}${s.unit ? ` ${s.unit}` : ''} ${ago(s.age_ms)} ago`);
};

async function send(
  opts: SocketOpts,
  cmd: ControlRequestT['cmd'],
  args: Record<string, unknown>,
  print = oneLine,
) {
  const socket = opts.socket ?? socketOrExit(opts.config);
  // A request with its own timeout (call) gets the agent's answer to it, not the client's.
  const res = await request(
    socket,
    cmd,
    args,
    typeof args.timeout === 'number' ? args.timeout + 5000 : undefined,
  );
  if (!res.ok) {
    console.error(`error [${res.code}]: ${res.error}`);
    process.exitCode = 1;
    return;
  }
  print(res.result);
}

/** One command that talks to a running agent: its arguments, the request it sends, how it prints. */
interface ControlCommand<O> {
  name: string;
  cmd: ControlRequestT['cmd'];
  description: string;
  /** Commander argument specs (`<tag>`, `[data]`) with their help, and an optional one's default. */
  args?: [spec: string, help: string, fallback?: string][];
  /** Options beyond the socket's: flags, help, default. */
  options?: [flags: string, help: string, fallback?: string][];
  request?(argv: (string | undefined)[], opts: SocketOpts & O): Record<string, unknown>;
  print?(argv: (string | undefined)[], opts: SocketOpts & O): Print;
}

/** The control commands (DESIGN §9), each one entry. */
const COMMANDS: ControlCommand<{ json?: boolean; timeout?: string }>[] = [
  {
    name: 'status',
    cmd: 'status',
    description: 'status of a running agent: services, workers, cloud link, outbox (JSON when piped)',
    options: [['--json', 'print JSON even on a terminal']],
    print: (_a, opts) =>
      human(opts) ? (r) => console.log(statusText(r as AgentStatus, Date.now())) : pretty,
  },
  {
    name: 'rollout',
    cmd: 'rollout',
    description: 'where config changes come from: status, or pull (fetch from git, or reload the file) now',
    args: [['[action]', 'status | pull', 'status']],
    request: ([action]) => ({ action }),
    print: () => pretty,
  },
  {
    name: 'update',
    cmd: 'update',
    description: 'SOTA/FOTA updates: status, or start / cancel one (fota | sota)',
    args: [
      ['[action]', 'status | start | cancel', 'status'],
      ['[kind]', 'fota | sota (for start and cancel)'],
    ],
    request: ([action, kind]) => ({ action, ...(kind ? { kind } : {}) }),
    print: () => pretty,
  },
  {
    name: 'power',
    cmd: 'power',
    description: 'power: battery voltage, the next action and why, inhibitors, last sleep and wake',
    args: [['[action]', 'status', 'status']],
    options: [['--json', 'print JSON even on a terminal']],
    request: ([action]) => ({ action }),
    print: (_a, opts) => (human(opts) ? (r) => console.log(powerText(r as PowerStatus, Date.now())) : pretty),
  },
  {
    name: 'signals',
    cmd: 'signals',
    description: 'current signal values with their age, e.g. signals.obd.rpm 812 rpm 0.4 s ago',
    args: [['[pattern]', 'only signals matching it: signals.obd.*, *rpm*, or a word they contain']],
    options: [['--json', 'one JSON line per signal']],
    request: ([pattern]) => (pattern === undefined ? {} : { pattern }),
    print: (_a, opts) => (human(opts) ? signalLines : linePerItem),
  },
  {
    name: 'worker',
    cmd: 'worker',
    description: 'list workers, or start / pause / resume / kill one',
    args: [
      ['[action]', 'list | start | pause | resume | kill', 'list'],
      ['[service]', 'service name'],
      ['[name]', 'worker name'],
    ],
    request: ([action, service, name]) => ({ action, service, name }),
    print: ([action]) => (action === 'list' ? pretty : oneLine),
  },
  {
    name: 'emit',
    cmd: 'emit',
    description: 'emit an event on the running agent’s bus',
    args: [
      ['<tag>', 'event tag, e.g. vehicle/engine/running'],
      ['[data]', 'event data as a JSON object'],
    ],
    request: ([tag, data]) => ({ tag, data: data === undefined ? {} : jsonArg(data, 'data') }),
  },
  {
    name: 'rules',
    cmd: 'rules',
    description: 'the running agent’s rules: runs, pending for: holds, last trace',
    print: () => pretty,
  },
  {
    name: 'trace',
    cmd: 'trace',
    description: 'the last 20 traces of a rule, one JSON line each',
    args: [['<rule>', 'rule name']],
    request: ([rule]) => ({ rule }),
    print: () => linePerItem,
  },
  {
    name: 'call',
    cmd: 'call',
    description: 'run one handler of a service and print its result as one JSON line',
    args: [
      ['<service>', 'service name'],
      ['<handler>', 'handler, e.g. query'],
      ['[args]', 'handler args as a JSON object, e.g. {"pid":"RPM"}'],
    ],
    options: [['--timeout <duration>', 'give up after this long (e.g. 30s)', '10s']],
    request: ([service, handler, args], opts) => ({
      service,
      handler,
      args: args === undefined ? {} : jsonArg(args, 'args'),
      timeout: durationArg(opts.timeout ?? '10s', '--timeout'),
    }),
  },
];

/** `pitcrew tap [PATTERN]`: a running agent's events as they happen, one JSON line each. */
function registerTap(program: Command): void {
  program
    .command('tap')
    .description("stream a running agent's bus events matching PATTERN (default #), one JSON line each")
    .argument('[pattern]', 'tag pattern: segments, + for one, # for the rest, or re:<regex>')
    .option('-n, --count <n>', 'stop after this many events')
    .option('-c, --config <file>', CONFIG_HELP, defaultConfig())
    .option('--socket <path>', 'control socket path (overrides the config)')
    .addHelpText(
      'after',
      `
Events a slow reader could not take are dropped by the agent (it never waits for a tap), and the
count is said on stderr. Exits 0 on Ctrl-C, after --count events, or when the reader goes (| head).`,
    )
    .action(async (pattern: string | undefined, opts: SocketOpts & { count?: string }) => {
      const socket = opts.socket ?? socketOrExit(opts.config);
      const limit = opts.count === undefined ? Number.POSITIVE_INFINITY : Number(opts.count);
      if (!(limit > 0)) throw errors.CLI_ARG(`--count takes a positive number, not '${opts.count}'`);
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.stdout.on('error', () => stop.abort());
      let seen = 0;
      await tapEvents(
        socket,
        pattern,
        (line) => {
          if ('dropped' in line)
            console.error(`pitcrew tap: ${line.dropped} events dropped (reading too slowly)`);
          else if (seen < limit) {
            process.stdout.write(`${JSON.stringify(line.event)}\n`);
            if (++seen >= limit) stop.abort();
          }
        },
        stop.signal,
      ).catch((e: unknown) => {
        if (!stop.signal.aborted) throw e;
      });
      if (!stop.signal.aborted) {
        console.error('pitcrew tap: the agent closed the stream (it stopped)');
        process.exitCode = 1;
      }
    });
}

/** Commands that talk to a running agent through its control socket (DESIGN §9). */
export function registerControl(program: Command): void {
  registerTap(program);
  for (const c of COMMANDS) {
    const command = program.command(c.name).description(c.description);
    for (const [spec, help, fallback] of c.args ?? []) command.argument(spec, help, fallback);
    for (const [flags, help, fallback] of c.options ?? []) command.option(flags, help, fallback);
    command
      .option('-c, --config <file>', CONFIG_HELP, defaultConfig())
      .option('--socket <path>', 'control socket path (overrides the config)')
      .action((...all: unknown[]) => {
        // Commander passes the arguments, then the options, then the command itself.
        const argv = all.slice(0, c.args?.length ?? 0) as (string | undefined)[];
        const opts = all[argv.length] as SocketOpts & { json?: boolean; timeout?: string };
        return send(opts, c.cmd, c.request?.(argv, opts) ?? {}, c.print?.(argv, opts));
      });
  }
}
