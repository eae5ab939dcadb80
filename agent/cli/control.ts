import type { Command } from 'commander';
import { request } from '../control/client.js';
import type { ControlRequestT } from '../control/protocol.js';
import type { AgentStatus } from '../parts/context.js';
import { durationArg, jsonArg } from './json-arg.js';
import { DEFAULT_CONFIG, loadOrExit } from './load-or-exit.js';
import { ago, short, statusText } from './status-text.js';

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
const human = (opts: { json?: boolean }) => !opts.json && process.stdout.isTTY === true;

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
  const socket = opts.socket ?? (await loadOrExit(opts.config, false)).config.control.socket;
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

/** Commands that talk to a running agent through its control socket (DESIGN §9). */
export function registerControl(program: Command): void {
  const withSocket = (c: Command) =>
    c
      .option('-c, --config <file>', 'config file naming the control socket', DEFAULT_CONFIG)
      .option('--socket <path>', 'control socket path (overrides the config)');

  withSocket(
    program
      .command('status')
      .description('status of a running agent: services, workers, cloud link, outbox (JSON when piped)')
      .option('--json', 'print JSON even on a terminal'),
  ).action((opts: SocketOpts & { json?: boolean }) =>
    send(
      opts,
      'status',
      {},
      human(opts) ? (r) => console.log(statusText(r as AgentStatus, Date.now())) : pretty,
    ),
  );

  withSocket(
    program
      .command('rollout')
      .description('where config changes come from: status, or pull (fetch from git, or reload the file) now')
      .argument('<action>', 'status | pull'),
  ).action((action: string, opts: SocketOpts) => send(opts, 'rollout', { action }, pretty));

  withSocket(
    program
      .command('update')
      .description('SOTA/FOTA updates: status, or start / cancel one (fota | sota)')
      .argument('<action>', 'status | start | cancel')
      .argument('[kind]', 'fota | sota (for start and cancel)'),
  ).action((action: string, kind: string | undefined, opts: SocketOpts) =>
    send(opts, 'update', { action, ...(kind ? { kind } : {}) }, pretty),
  );

  withSocket(
    program
      .command('signals')
      .description('current signal values with their age, e.g. signals.obd.rpm 812 rpm 0.4 s ago')
      .argument('[pattern]', 'only signals matching it: signals.obd.*, *rpm*, or a word they contain')
      .option('--json', 'one JSON line per signal'),
  ).action((pattern: string | undefined, opts: SocketOpts & { json?: boolean }) =>
    send(opts, 'signals', pattern === undefined ? {} : { pattern }, human(opts) ? signalLines : linePerItem),
  );

  withSocket(
    program
      .command('worker')
      .description('list workers, or start / pause / resume / kill one')
      .argument('<action>', 'list | start | pause | resume | kill')
      .argument('[service]', 'service name')
      .argument('[name]', 'worker name'),
  ).action((action: string, service: string | undefined, name: string | undefined, opts: SocketOpts) =>
    send(opts, 'worker', { action, service, name }, action === 'list' ? pretty : oneLine),
  );

  withSocket(
    program
      .command('emit')
      .description('emit an event on the running agent’s bus')
      .argument('<tag>', 'event tag, e.g. vehicle/engine/running')
      .argument('[data]', 'event data as a JSON object'),
  ).action((tag: string, data: string | undefined, opts: SocketOpts) =>
    send(opts, 'emit', { tag, data: data === undefined ? {} : jsonArg(data, 'data') }),
  );

  withSocket(
    program.command('rules').description('the running agent’s rules: runs, pending for: holds, last trace'),
  ).action((opts: SocketOpts) => send(opts, 'rules', {}, pretty));

  withSocket(
    program
      .command('trace')
      .description('the last 20 traces of a rule, one JSON line each')
      .argument('<rule>', 'rule name'),
  ).action((rule: string, opts: SocketOpts) => send(opts, 'trace', { rule }, linePerItem));

  withSocket(
    program
      .command('call')
      .description('run one handler of a service and print its result as one JSON line')
      .argument('<service>', 'service name')
      .argument('<handler>', 'handler, e.g. query')
      .argument('[args]', 'handler args as a JSON object, e.g. {"pid":"RPM"}')
      .option('--timeout <duration>', 'give up after this long (e.g. 30s)', '10s'),
  ).action(
    (service: string, handler: string, args: string | undefined, opts: SocketOpts & { timeout: string }) =>
      send(opts, 'call', {
        service,
        handler,
        args: args === undefined ? {} : jsonArg(args, 'args'),
        timeout: durationArg(opts.timeout, '--timeout'),
      }),
  );
}
