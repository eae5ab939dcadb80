import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { MqttClient } from 'mqtt';
import { parseDuration } from '../../schemas/common.js';
import { SignedEnvelope } from '../../schemas/wire.js';
import type { BrokerOptions } from '../cloud/push.js';
import { realClock } from '../core/clock.js';
import { errors } from '../errors.js';
import { closeRollout, collect, fleetClient } from '../fleet/connect.js';
import { RolloutRun } from '../fleet/rollout.js';
import { type Payload, type Rollout, RolloutStore } from '../fleet/store.js';
import { FleetTopics } from '../fleet/topics.js';
import { FleetView, summary, type UnitView } from '../fleet/view.js';
import { parseShare, waveEnds } from '../fleet/waves.js';
import { compileLogic } from '../reactor/logic.js';
import { brokerFlags, brokerOf } from './broker-flags.js';
import { jsonArg } from './json-arg.js';
import { ago, human } from './status-text.js';

const DEFAULT_PREFIX = 'pitcrew/+';
/** Worked out when asked, not at load: the home directory is the running user's. */
const defaultState = () => path.join(homedir(), '.local/state/pitcrew/fleet.db');

/** A signed envelope's payload, read without its signature (the units check that): what it is and its number. */
function payloadOf(file: string, kind: Payload['kind']): Payload & { units?: string[] } {
  const text = readFileSync(file, 'utf8').trim();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(Buffer.from(SignedEnvelope.parse(JSON.parse(text)).payload, 'base64').toString('utf8'));
  } catch {
    throw errors.CLI_ARG(`${file}: not a signed envelope (pitcrew ${kind} sign makes one)`);
  }
  const field = kind === 'bundle' ? 'version' : 'sequence';
  const key = body[field];
  if (!Number.isInteger(key))
    throw errors.CLI_ARG(`${file}: the ${kind} has no ${field}, which its acknowledgements name`);
  const unit = body.unit;
  return {
    kind,
    key: key as number,
    envelope: text,
    ...(unit === undefined ? {} : { units: [unit].flat() as string[] }),
  };
}

/** The units a rollout targets, in wave order: a list file's order, else by id. */
function select(view: FleetView, opts: RolloutOpts): UnitView[] {
  if (opts.units) {
    const ids = readFileSync(opts.units, 'utf8')
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean);
    return [...new Set(ids)].map((id) => view.unit(id));
  }
  const all = [...view.units.values()].sort((a, b) => a.id.localeCompare(b.id));
  if (opts.all) return all;
  const f = compileLogic(jsonArg(opts.select!, '--select'));
  return all.filter((u) => Boolean(f(summary(u))));
}

interface RolloutOpts extends BrokerOptions {
  prefix: string;
  bundle?: string;
  desired?: string;
  units?: string;
  select?: string;
  all?: boolean;
  waves: string;
  maxFailures: string;
  waveTimeout: string;
  deadline: string;
  rollback?: string;
  state: string;
  resume?: string;
  json?: boolean;
}

/** A new rollout from the options and the fleet the broker shows. */
function plan(
  opts: RolloutOpts,
  view: FleetView,
  id: string,
): { record: Omit<Rollout, 'wave' | 'state' | 'reason'>; units: UnitView[] } {
  if (Boolean(opts.bundle) === Boolean(opts.desired))
    throw errors.CLI_ARG('give --bundle FILE or --desired FILE');
  if ([opts.units, opts.select, opts.all].filter(Boolean).length !== 1)
    throw errors.CLI_ARG('choose the units with one of --units FILE, --select JSONLOGIC or --all');
  const kind = opts.bundle ? 'bundle' : 'desired';
  const payload = payloadOf((opts.bundle ?? opts.desired)!, kind);
  const rollback = opts.rollback ? payloadOf(opts.rollback, kind) : null;
  // A unit takes only a newer bundle or desired status than the one it runs: the way back must be newer still.
  if (rollback && rollback.key <= payload.key)
    throw errors.CLI_ARG(
      `--rollback ${opts.rollback}: its ${kind === 'bundle' ? 'version' : 'sequence'} ${rollback.key} must be above the new one's (${payload.key}), or units refuse it as a downgrade; sign the previous one again with a higher number`,
    );
  const units = select(view, opts);
  if (!units.length) throw errors.CLI_ARG('no unit matches: nothing to roll out');
  const outside = payload.units && units.filter((u) => !payload.units!.includes(u.id));
  if (outside?.length)
    throw errors.CLI_ARG(
      `the desired status is meant for ${payload.units!.join(', ')}, not for ${outside.map((u) => u.id).join(', ')}`,
    );
  const { units: _u, ...p } = payload;
  return {
    record: {
      id,
      created: Date.now(),
      prefix: opts.prefix,
      payload: p,
      rollback: rollback && { kind, key: rollback.key, envelope: rollback.envelope },
      waves: waveEnds(opts.waves, units.length),
      maxFailures: parseShare(opts.maxFailures, '--max-failures'),
      waveTimeout: parseDuration(opts.waveTimeout),
      deadline: Date.now() + parseDuration(opts.deadline),
    },
    units,
  };
}

function report(store: RolloutStore, r: Rollout, asText: boolean): void {
  const targets = store.targets(r.id);
  if (!asText) {
    console.log(
      JSON.stringify({
        ...rolloutLine(store, r),
        units: targets.map((t) => ({ unit: t.unit, wave: t.wave + 1, state: t.state, detail: t.detail })),
      }),
    );
    return;
  }
  console.log(`rollout ${r.id}: ${r.state}${r.reason ? ` (${r.reason})` : ''}`);
  for (const [state, n] of Object.entries(store.counts(r.id))) console.log(`  ${state}: ${n}`);
  for (const t of targets.filter((t) => t.state !== 'applied'))
    console.log(`  ${t.unit} (wave ${t.wave + 1}): ${t.state}${t.detail ? `: ${t.detail}` : ''}`);
}

function rolloutLine(store: RolloutStore, r: Rollout) {
  return {
    id: r.id,
    created: new Date(r.created).toISOString(),
    kind: r.payload.kind,
    key: r.payload.key,
    prefix: r.prefix,
    state: r.state,
    reason: r.reason,
    wave: `${r.wave + 1}/${r.waves.length}`,
    units: store.counts(r.id),
  };
}

async function rollout(opts: RolloutOpts): Promise<void> {
  const store = new RolloutStore(opts.state);
  const resumed = opts.resume ? store.get(opts.resume) : undefined;
  if (opts.resume && !resumed)
    throw errors.CLI_ARG(`no rollout ${opts.resume} in ${opts.state} (pitcrew fleet rollouts lists them)`);
  if (resumed && resumed.state !== 'running')
    throw errors.CLI_ARG(`rollout ${resumed.id} has ended: ${resumed.state}`);
  const id = resumed?.id ?? randomBytes(4).toString('hex');
  const topics = new FleetTopics(resumed?.prefix ?? opts.prefix);
  const view = new FleetView(topics);
  let client: MqttClient | undefined;
  let ended = false;
  try {
    const session = `pitcrew-fleet-${id}`;
    const link = await fleetClient(brokerOf(opts), session);
    client = link.client;
    const c = client;
    const { shared } = link;
    if (!shared) console.error('the broker takes no shared subscriptions: listening on plain ones');
    let run: RolloutRun | undefined;
    const onMessage = (topic: string, payload: Buffer, retained: boolean) => {
      if (run) run.message(topic, payload, retained);
      else view.take(topic, payload, retained);
    };
    await collect(client, view, onMessage, shared ? { group: session } : {});
    let r = resumed;
    if (!r) {
      const { record, units } = plan(opts, view, id);
      r = store.create(record, units);
      console.error(
        `rollout ${r.id}: ${r.payload.kind} ${r.payload.key} to ${units.length} unit(s) in ${r.waves.length} wave(s) (resume with --resume ${r.id})`,
      );
    }
    run = new RolloutRun(
      store,
      r,
      { publish: (t, p) => c.publishAsync(t, p, { qos: 1 }).then(() => {}) },
      view,
      realClock,
      (l) => console.error(`${new Date().toISOString().slice(11, 19)} ${l}`),
    );
    const end = await run.run();
    ended = true;
    report(store, end, human(opts));
    process.exitCode = end.state === 'done' ? 0 : 1;
  } finally {
    if (client) await closeRollout(client, ended);
    store.close();
  }
}

function statusTable(view: FleetView, now: number): string {
  const rows = [...view.units.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((u) => {
      const s = summary(u);
      const updates = Object.entries(s.updates as Record<string, number>)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ');
      const ack = s.last_ack as { version: unknown; status: unknown } | null;
      return [
        u.id,
        u.online === undefined ? '?' : u.online ? 'online' : 'offline',
        String(s.bundle ?? '-'),
        `${s.config ?? '-'} ${s.config_status ?? ''}`.trim(),
        updates || '-',
        ack ? `${ack.version} ${ack.status}` : '-',
        u.seen ? `${ago(now - u.seen)} ago` : '-',
      ];
    });
  const head = ['UNIT', 'LINK', 'BUNDLE', 'CONFIG', 'UPDATES', 'LAST ACK', 'SEEN'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

async function status(
  opts: BrokerOptions & { prefix: string; watch?: boolean; json?: boolean },
): Promise<void> {
  const view = new FleetView(new FleetTopics(opts.prefix));
  const { client } = await fleetClient(brokerOf(opts));
  const text = human(opts);
  let changed: ((u: UnitView) => void) | undefined;
  try {
    await collect(client, view, (topic, payload, retained) => {
      const got = view.take(topic, payload, retained);
      if (got) changed?.(got.unit);
    });
    if (text) console.log(statusTable(view, Date.now()));
    else
      for (const u of [...view.units.values()].sort((a, b) => a.id.localeCompare(b.id)))
        console.log(JSON.stringify(summary(u)));
    if (!opts.watch) return;
    changed = (u) => {
      if (text) process.stdout.write(`\x1b[H\x1b[2J${statusTable(view, Date.now())}\n`);
      else console.log(JSON.stringify(summary(u)));
    };
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } finally {
    await client.endAsync();
  }
}

/** `pitcrew fleet status | rollout | rollouts`: the fleet side, over the broker alone (DESIGN §15). */
export function registerFleet(program: Command): void {
  const fleet = program
    .command('fleet')
    .description('the fleet as the broker sees it, and rollouts to it in waves');
  brokerFlags(
    fleet
      .command('status')
      .description(
        "each unit's link, config, bundle, updates and last acknowledgement, from the broker's retained messages",
      ),
  )
    .option('--prefix <filter>', "the units' topic prefix, + where the unit id goes", DEFAULT_PREFIX)
    .option('--watch', 'keep it live: redrawn on a terminal, a JSON line per change when piped')
    .option('--json', 'JSON lines, also on a terminal')
    .action(status);
  brokerFlags(
    fleet
      .command('rollout')
      .description(
        'push a signed bundle or desired status to units in waves; a wave that fails too much aborts the rest (and rolls back with --rollback); exits 0 only when every unit applied it',
      ),
  )
    .option('--prefix <filter>', "the units' topic prefix, + where the unit id goes", DEFAULT_PREFIX)
    .option('--bundle <envelope>', 'a signed bundle (pitcrew bundle sign)')
    .option('--desired <envelope>', 'a signed desired status (pitcrew desired sign)')
    .option('--units <file>', 'the units, one id a line, in the order the waves take them')
    .option(
      '--select <jsonlogic>',
      'the units whose fleet status matches (as fleet status --json shows it), e.g. \'{"==": [{"var": "bundle"}, 6]}\'',
    )
    .option('--all', 'every unit the broker knows under the prefix')
    .option('--waves <list>', 'units reached after each wave, cumulative', '1%,10%,100%')
    .option('--max-failures <share>', 'abort when more of a wave fail than this (5% or a count)', '5%')
    .option(
      '--wave-timeout <duration>',
      'how long a wave waits for its online units (longer than their rollout.health window)',
      '10m',
    )
    .option('--deadline <duration>', 'how long units offline are waited for, from the start', '24h')
    .option(
      '--rollback <envelope>',
      'on abort, pushed to the units that took the new one: the previous one signed again with a higher number',
    )
    .option('--state <file>', 'where rollouts are kept', defaultState())
    .option('--resume <id>', 'continue an interrupted rollout (pitcrew fleet rollouts lists them)')
    .option('--json', 'the final report as JSON, also on a terminal')
    .action(rollout);
  fleet
    .command('rollouts')
    .description('the rollouts kept in the state file: state, wave and how many units are where')
    .option('--state <file>', 'where rollouts are kept', defaultState())
    .option('--json', 'JSON lines, also on a terminal')
    .action((opts: { state: string; json?: boolean }) => {
      const store = new RolloutStore(opts.state);
      try {
        for (const r of store.list()) {
          const l = rolloutLine(store, r);
          if (!human(opts)) console.log(JSON.stringify(l));
          else
            console.log(
              `${l.id}  ${l.created}  ${l.kind} ${l.key}  ${l.state}${l.reason ? ` (${l.reason})` : ''}  wave ${l.wave}  ${Object.entries(
                l.units,
              )
                .map(([k, n]) => `${n} ${k}`)
                .join(', ')}`,
            );
        }
      } finally {
        store.close();
      }
    });
}
