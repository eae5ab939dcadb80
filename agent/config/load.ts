import path from 'node:path';
import { errorText } from '../core/errors.js';
import { deepFreeze } from '../core/freeze.js';
import { driverNamed } from '../drivers/registry.js';
import type { SettingsProblem } from '../drivers/types.js';
import { Rule, type RuleT } from '../reactor/schema.js';
import { type Composed, compose, positionOf, ruleNodes } from './compose.js';
import { ConfigError, type ConfigIssue, formatIssue, formatPath, type KeyPath, type Pos } from './errors.js';
import type { ConfigMemo } from './memo.js';
import { resolvePaths } from './paths.js';
import { Config, type ConfigT, DEFAULT_DATA_DIR, DEFAULT_SOCKET } from './schema.js';
import { type SchemaProblem, translate } from './schema-issues.js';
import { SemanticChecker } from './semantics.js';
import type { Env } from './yaml-source.js';

/** A validated config, with where it came from. */
export interface LoadedConfig {
  /** Where a key path of the config was written. */
  positionOf(path: KeyPath): Pos;
  config: ConfigT;
  /** The main file, absolute; relative paths in the config resolve against its directory. */
  file: string;
  files: string[];
  /** The config as written (after includes and env), for diffing and last-known-good. */
  raw: unknown;
  /** What is allowed but likely a mistake (`file:line:column key: what`): said by validate and at start. */
  warnings: string[];
}

function toIssues(c: Composed, problems: SchemaProblem[]): ConfigIssue[] {
  return problems.map((p) => ({
    ...positionOf(c, p.path, p.atKey),
    path: formatPath(p.path),
    message: p.message,
  }));
}

const RULES: KeyPath = ['reactor', 'rules'];

/**
 * `reactor.rules` validated one by one, each taken from the memo when a load before validated a
 * rule that says the same; the config data without them, for the schema to check the rest.
 */
function memoRules(
  c: Composed,
  memo: ConfigMemo,
): { rest: unknown; rules?: (RuleT | undefined)[]; problems: SchemaProblem[] } {
  const found = ruleNodes(c);
  if (!found) return { rest: c.data, problems: [] };
  const data = c.data as { reactor: Record<string, unknown> };
  const problems: SchemaProblem[] = [];
  const kept = new Map<string, RuleT>();
  const rules = found.raw.map((r, i) => {
    const key = memo.key(found.nodes[i]!, r);
    const known = kept.get(key) ?? memo.rules.get(key);
    if (known) {
      kept.set(key, known);
      return known;
    }
    const parsed = Rule.safeParse(r, { reportInput: true });
    if (parsed.success) {
      kept.set(key, deepFreeze(parsed.data));
      return parsed.data;
    }
    for (const issue of parsed.error.issues) problems.push(...translate(Config, issue, [...RULES, i]));
    return undefined;
  });
  memo.rules = kept;
  return { rest: { ...data, reactor: { ...data.reactor, rules: [] } }, rules, problems };
}

/**
 * Validates composed config data: schema first, then the semantic checks, all problems at once.
 * With a memo, rules a load before already validated and checked are taken from it.
 */
export function validateComposed(c: Composed, issues: ConfigIssue[] = [], memo?: ConfigMemo): ConfigT {
  if (c.data === undefined && issues.length > 0) throw new ConfigError(issues);
  // A value already reported while reading (an unset env variable) is not reported again by the schema.
  const known = new Set(issues.map((i) => i.path));
  const { rest, rules, problems } = memo ? memoRules(c, memo) : { rest: c.data, problems: [] };
  const input = rest ?? {};
  const parsed = Config.safeParse(input, { reportInput: true });
  for (const issue of parsed.error?.issues ?? []) problems.push(...translate(Config, issue, [], input));
  issues.push(...toIssues(c, problems).filter((i) => !known.has(i.path)));
  issues.push(...toIssues(c, new SemanticChecker(c, memo).run()));
  if (issues.length > 0 || !parsed.success) throw new ConfigError(dedupe(inFileOrder(c, issues)));
  if (rules) parsed.data.reactor.rules = rules as RuleT[];
  return parsed.data;
}

/** Issues as the files read: by file (in the order they were read), line and column. */
function inFileOrder(c: Composed, issues: ConfigIssue[]): ConfigIssue[] {
  const rank = (f: string) => {
    const i = c.files.indexOf(f);
    return i < 0 ? c.files.length : i;
  };
  return [...issues].sort((a, b) => rank(a.file) - rank(b.file) || a.line - b.line || a.column - b.column);
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.file}:${i.line}:${i.column}:${i.path}:${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Where a config is read from when it is not the unit's own file: `within`, the directory it and
 * its includes must stay in (a git checkout); `unitDir`, what the unit's own places resolve
 * against (the directory of the config the agent was started with).
 */
export interface LoadPlace {
  within?: string;
  unitDir?: string;
  /** What the load before this one parsed and checked (a reloader's): only what changed is done again. */
  memo?: ConfigMemo;
  /** A bundle's overlay file, laid over the config (its rules and services in place of the config's). */
  overlay?: string;
}

/** Loads a config file with its includes and env substitutions; throws ConfigError listing every problem. */
export function loadConfigSync(
  file: string,
  env: Env = process.env,
  { within, unitDir, memo, overlay }: LoadPlace = {},
): LoadedConfig {
  const issues: ConfigIssue[] = [];
  const composed = compose(file, env, issues, within, memo, overlay);
  const config = validateComposed(composed, issues, memo);
  resolvePaths(config, composed, unitDir);
  return {
    config,
    file: path.resolve(file),
    files: composed.files,
    raw: composed.data,
    warnings: composed.warnings.map(formatIssue),
    positionOf: (p) => positionOf(composed, p),
  };
}

/** Checks that need I/O beyond the files: each driver's own (a module service's settings against its schema). */
export async function checkDrivers(loaded: LoadedConfig): Promise<void> {
  const issues: ConfigIssue[] = [];
  for (const [name, svc] of Object.entries(loaded.config.services) as [
    string,
    { driver: string; settings: unknown },
  ][]) {
    const base: KeyPath = ['services', name, 'settings'];
    let problems: SettingsProblem[];
    try {
      problems = (await driverNamed(svc.driver)?.check(svc.settings)) ?? [];
    } catch (e) {
      problems = [{ path: [], message: errorText(e) }];
    }
    for (const p of problems)
      issues.push({
        ...loaded.positionOf([...base, ...p.path]),
        path: formatPath([...base, ...p.path]),
        message: p.message,
      });
  }
  if (issues.length) throw new ConfigError(issues);
}

/** Loads and fully checks a config, drivers' own checks included (DESIGN §11). */
export async function loadChecked(
  file: string,
  env: Env = process.env,
  place: LoadPlace = {},
): Promise<LoadedConfig> {
  const loaded = loadConfigSync(file, env, place);
  await checkDrivers(loaded);
  return loaded;
}

export async function loadConfig(file: string, env: Env = process.env): Promise<ConfigT> {
  return (await loadChecked(file, env)).config;
}

/** The files a config is made of, as far as they can be found, even when it does not validate (to watch it). */
export function filesOf(file: string, env: Env = process.env): string[] {
  return compose(file, env, []).files;
}

/**
 * One of the unit's own places (`['unit', 'data_dir']`, `['control', 'socket']`), read from the
 * config without validating the rest: at boot a broken config still names the data directory that
 * holds its last known good, and a client command finds the control socket without the agent's
 * secrets (an `${env:…}` set only in the service's environment). Relative to the file that says it.
 */
export function placeOf(
  file: string,
  key: 'data_dir' | 'socket',
  env: Env = process.env,
  strict = true,
): string {
  const issues: ConfigIssue[] = [];
  const c = compose(file, env, issues);
  const p: KeyPath = key === 'data_dir' ? ['unit', 'data_dir'] : ['control', 'socket'];
  const own = issues.filter((i) => i.path === formatPath(p) || i.path === '');
  if (strict && own.length) throw new ConfigError(own);
  const value = p.reduce<unknown>(
    (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
    c.data,
  );
  if (typeof value === 'string' && value) return path.resolve(path.dirname(positionOf(c, p).file), value);
  return path.resolve(
    path.dirname(path.resolve(file)),
    key === 'data_dir' ? DEFAULT_DATA_DIR : DEFAULT_SOCKET,
  );
}

/** Where a config keeps its data, even when the config cannot be read: the default then. */
export const dataDirOf = (file: string, env: Env = process.env): string =>
  placeOf(file, 'data_dir', env, false);
