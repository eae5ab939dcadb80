/**
 * A rule-only config change with 1,000 rules loaded (the workload's rules, every shape), while
 * events flow through the bus (10 every millisecond the timer gets): the time from writing the file to the new rules
 * being active (file watch, load, full validation, diff, swap), and how many events a counting
 * rule missed or saw twice across the changes (must be 0). The layouts: the rules in 20 included
 * files of 50 with one rule of one file changed (what a rules directory looks like: only that file
 * is parsed, validated and compiled again); all 1,000 in the config file itself, one rule changed
 * (only that rule's lines are parsed again); the same with the rule near the top growing by a line
 * at each change (every rule below it moves); and beside them, the file parsed whole at each change,
 * as a file with an anchor is, and a service's setting changed in the file of 1,000 rules (only
 * that service's lines are parsed again), and the same under a kept bundle that brings the
 * rules (a fleet's unit: its file the services, the bundle the rules). Target < 20 ms for the rule-only changes. The files are YAML in block style, as people
 * write them (JSON, a flow style, parses twice as fast).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { ConfigMemo } from '../agent/config/memo.js';
import { loadWithBundle } from '../agent/rollout/bundles.js';
import { Reloader } from '../agent/rollout/reloader.js';
import { Agent } from '../agent/runtime/agent.js';
import { median, report } from './_report.js';
import { rawRules } from './_workload.js';

const CHANGES = 15;
const FILES = 20;
const { rules } = rawRules(1000);
const COUNT = { name: 'count', on: 'load/tick', do: [{ emit: { tag: 'counted' } }] };
/** One rule's action differs at each change (`grow`: it has one action more at each); every other rule is as it was. */
const changed = (list: Record<string, unknown>[], change: number, grow = false) =>
  list.map((r, i) =>
    i === 0
      ? {
          ...r,
          do: Array.from({ length: grow ? change + 1 : 1 }, (_, k) => ({
            emit: { tag: `out/changed${change}/${k}` },
          })),
        }
      : r,
  );

/**
 * Writes the config; `change(c)` is change c: the file to write and its text, written once timed.
 * `bundle`: a kept bundle (the rules) lies over it.
 */
type Layout = ((dir: string, file: string) => (change: number) => [string, string]) & { bundle?: boolean };

const oneFile =
  (grow: boolean, anchored = false): Layout =>
  (dir, file) =>
  (change) => {
    const text = stringify(base(dir, { reactor: { rules: [COUNT, ...changed(rules, change, grow)] } }));
    // An anchor anywhere: no part of the file may stand alone, it is parsed whole.
    return [file, anchored ? text.replace('unit:', 'unit: &unit') : text];
  };

/** All 1,000 rules in the config file, and a service whose setting changes: only its lines are parsed again. */
const oneFileSetting: Layout = (dir, file) => (change) => [
  file,
  stringify(
    base(dir, {
      services: { car: { driver: 'sim-vehicle', settings: { seed: change } } },
      reactor: { rules: [COUNT, ...rules] },
    }),
  ),
];

/** A service's setting changed in the unit's file, under a kept bundle of the 1,000 rules. */
const bundledSetting: Layout = Object.assign(
  (dir: string, file: string) => {
    const bundle = bundleOf(dir);
    mkdirSync(bundle, { recursive: true });
    writeFileSync(path.join(bundle, 'overlay.json'), JSON.stringify({ rules: [COUNT, ...rules] }, null, 2));
    return (change: number): [string, string] => [
      file,
      stringify(base(dir, { services: { car: { driver: 'sim-vehicle', settings: { seed: change } } } })),
    ];
  },
  { bundle: true },
);
const bundleOf = (dir: string) => path.join(dir, 'var', 'rollout', 'bundle-1');

const ruleFiles: Layout = (dir, file) => {
  mkdirSync(path.join(dir, 'rules'));
  writeFileSync(file, stringify(base(dir, { include: 'rules/*.yaml', reactor: { rules: [COUNT] } })));
  const per = rules.length / FILES;
  const ruleFile = (f: number, list: unknown[]): [string, string] => [
    path.join(dir, 'rules', `r${f}.yaml`),
    stringify({ reactor: { rules: list } }),
  ];
  for (let f = 0; f < FILES; f++) writeFileSync(...ruleFile(f, rules.slice(f * per, (f + 1) * per)));
  // Each change edits a file the changes before did not: none is parsed before its change.
  return (change) => {
    const f = change % FILES;
    return ruleFile(f, changed(rules.slice(f * per, (f + 1) * per), change));
  };
};

function base(dir: string, rest: Record<string, unknown>) {
  return {
    version: 1,
    unit: { id: 'bench', data_dir: path.join(dir, 'var') },
    control: { socket: path.join(dir, 'ctl.sock') },
    rollout: { watch: true, debounce: '0ms' },
    ...rest,
  };
}

async function measure(layout: Layout): Promise<{ times: number[]; emitted: number; counted: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pitcrew-reload-'));
  const file = path.join(dir, 'pitcrew.yaml');
  const change = layout(dir, file);
  writeFileSync(...change(0));
  // As `pitcrew run` starts: the load's memo goes to the reloader.
  const memo = new ConfigMemo();
  const bundle = layout.bundle ? bundleOf(dir) : undefined;
  const loaded = await loadWithBundle(file, bundle, { unitDir: dir, memo });
  const agent = new Agent(loaded.config, { baseDir: dir });
  const reloader = new Reloader(
    agent.context(loaded.config.rollout, { file, files: loaded.files, raw: loaded.raw, memo }),
  );
  if (bundle) reloader.layOver(() => bundle);
  agent.use(reloader, 'rollout');
  await agent.start();
  let emitted = 0;
  let counted = 0;
  agent.bus.on('counted', () => {
    counted++;
  });
  const pump = setInterval(() => {
    for (let i = 0; i < 10; i++) {
      agent.emit('load/tick');
      emitted++;
    }
  }, 1);
  let applied: () => void = () => {};
  agent.bus.on('system/config/applied', () => applied());
  const times: number[] = [];
  for (let c = 1; c <= CHANGES; c++) {
    await new Promise((r) => setTimeout(r, 200));
    const done = new Promise<void>((r) => {
      applied = r;
    });
    const [to, text] = change(c);
    const t0 = performance.now();
    writeFileSync(to, text);
    await done;
    times.push(performance.now() - t0);
  }
  clearInterval(pump);
  await new Promise((r) => setTimeout(r, 50));
  await agent.stop();
  rmSync(dir, { recursive: true, force: true });
  return { times, emitted, counted };
}

let lostOrDoubled = 0;
const layouts: [string, Layout, number | undefined][] = [
  [`rule-only change, 1,000 rules in ${FILES} files, one rule of one file changed`, ruleFiles, 20],
  ['rule-only change, 1,000 rules in the config file itself, one rule changed', oneFile(false), 20],
  [
    'rule-only change, 1,000 rules in the config file itself, a rule near the top a line longer at each change',
    oneFile(true),
    20,
  ],
  [
    'rule-only change, 1,000 rules in the config file itself, one rule changed, the file parsed whole (it has an anchor)',
    oneFile(false, true),
    undefined,
  ],
  ["a service's setting changed, 1,000 rules in the config file itself", oneFileSetting, undefined],
  ["a service's setting changed, under a kept bundle of the 1,000 rules", bundledSetting, undefined],
];
for (const [what, layout, target] of layouts) {
  const { times, emitted, counted } = await measure(layout);
  lostOrDoubled += Math.abs(emitted - counted);
  console.log(
    `${what}: ${times.map((t) => t.toFixed(0)).join(', ')} ms; ` +
      `${emitted} events during ${CHANGES} changes, ${counted} counted`,
  );
  const name = `${what}: file written to the new config active`;
  if (target) report(name, median(times), 'ms', target, 'lower');
  else console.log(`${name}: ${median(times).toFixed(0)} ms (beside the rows above)`);
}
console.log(
  `events lost or handled twice across the changes: ${lostOrDoubled} (must be 0) ${lostOrDoubled === 0 ? 'OK' : 'MISSED'}`,
);
if (lostOrDoubled !== 0) process.exitCode = 1;
