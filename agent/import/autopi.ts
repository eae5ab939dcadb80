import path from 'node:path';
import { Name } from '../../schemas/common.js';
import { HOOK_KINDS, type HookKind } from '../../schemas/services.js';
import { plainValue } from '../config/compose.js';
import { type ConfigIssue, formatPath, type KeyPath } from '../config/errors.js';
import { type LNode, parseYamlSource } from '../config/yaml-source.js';
import { parsePattern } from '../core/patterns.js';
import { compileFormula } from '../drivers/obd/formula.js';
import { findPid } from '../drivers/obd/pids.js';
import {
  DONE_BY_ITSELF,
  type Dropped,
  HOOKS,
  hookKey,
  NO_SERVICE,
  OBD_COMMANDS,
  POWER_FUNCTIONS,
  SERVICES,
  type ServiceMap,
  type Step,
} from './autopi-names.js';
import { conditionToLogic, ExprError, valueToTemplate } from './python-expr.js';

/** A YAML node with its key path, read the way the converter needs it. */
class Src {
  constructor(
    readonly node: LNode,
    readonly path: KeyPath,
  ) {}

  get(key: string): Src | undefined {
    const e = this.node.t === 'map' ? this.node.entries.get(key) : undefined;
    return e && new Src(e.node, [...this.path, key]);
  }

  entries(): [string, Src][] {
    if (this.node.t !== 'map') return [];
    return [...this.node.entries].map(([k, e]) => [k, new Src(e.node, [...this.path, k])]);
  }

  items(): Src[] {
    return this.node.t === 'seq' ? this.node.items.map((n, i) => new Src(n, [...this.path, i])) : [];
  }

  value(): unknown {
    return plainValue(this.node);
  }

  /** A value that may be one name or a list, as AutoPi's comma-separated hook names. */
  names(): string[] {
    const v = this.value();
    const list = Array.isArray(v) ? v : [v];
    return list
      .flatMap((x) => (typeof x === 'string' ? x.split(',') : []))
      .map((s) => s.trim())
      .filter(Boolean);
  }

  get isMap(): boolean {
    return this.node.t === 'map';
  }
}

type Obj = Record<string, unknown>;

/** A converted service, and what its messages may refer to. */
interface Target {
  name: string;
  map: ServiceMap | undefined;
  driver: string;
  /** The service's own hooks, by AutoPi name, as the steps they became. */
  hooks: Map<string, Step[]>;
  defaultReturner?: Src;
}

const SERVICE_KEYS = new Set(['workers', 'hooks', 'reactors', 'mappings', 'returner', 'settings', 'enabled']);
const STEP_ORDER: readonly HookKind[] = ['converter', 'trigger', 'filter', 'enricher', 'returner'];
/** A shell would read these; pitcrew's exec runs a program with its arguments, no shell. */
const SHELL_CHARS = /[|&;<>()$`"'\\*?[\]~{}]/;

const seconds = (v: number) => (Number.isInteger(v) ? `${v}s` : `${Math.round(v * 1000)}ms`);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A name pitcrew accepts: AutoPi's, or with anything else made `_`. */
function nameFor(raw: unknown, fallback: string): string {
  if (typeof raw !== 'string' || raw === '') return fallback;
  if (Name.safeParse(raw).success) return raw;
  const fixed = raw.replace(/[^A-Za-z0-9_-]/g, '_').replace(/^[_-]+/, '');
  return fixed || fallback;
}

/** fnmatch as a regular expression: `*` any run (slashes too, as Python's), `?` one character, `[…]`. */
function fnmatchToRe(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[' && glob.indexOf(']', i + 2) > 0) {
      const end = glob.indexOf(']', i + 2);
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return `^${re}$`;
}

/** A Python regular expression in JavaScript's syntax: named groups are written `(?<name>…)`. */
const pythonRe = (re: string) => re.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');

/** An AutoPi reactor's match as a pitcrew pattern: an exact tag where it is one, else `re:`. */
function patternOf(r: Src): { pattern: string; from: Src } | { why: string; from: Src } {
  const kinds = ['regex', 'startswith', 'endswith', 'fnmatch'] as const;
  const kind = kinds.find((k) => r.get(k));
  if (!kind) return { why: 'it has no regex, startswith, endswith or fnmatch to match events', from: r };
  const from = r.get(kind)!;
  const v = from.value();
  if (typeof v !== 'string' || v === '') return { why: `${kind} is not text`, from };
  let re: string;
  if (kind === 'regex') re = pythonRe(v);
  else if (kind === 'startswith') re = `^${escapeRe(v)}`;
  else if (kind === 'endswith') re = `${escapeRe(v)}$`;
  else re = fnmatchToRe(v);
  const exact = /^\^([A-Za-z0-9_/-]+)\$$/.exec(re);
  const pattern = exact ? exact[1]! : `re:${re}`;
  try {
    parsePattern(pattern);
  } catch (e) {
    return { why: (e as Error).message, from };
  }
  return { pattern, from };
}

/** Converts AutoPi's services, workers, hooks and reactors into pitcrew's config. */
class AutopiImport {
  readonly services: Record<string, Obj> = {};
  readonly rules: Obj[] = [];
  private usesCloud = false;
  private usesPower = false;

  constructor(
    private readonly file: string,
    readonly issues: ConfigIssue[],
  ) {}

  /** Says what was not converted, where it was written. */
  private skip(at: Src, message: string): undefined {
    this.issues.push({ ...at.node.pos, path: formatPath(at.path), message });
    return undefined;
  }

  root(src: Src): void {
    const minion = src.get('minion');
    const engines = minion?.get('engines') ?? src.get('engines');
    if (engines) {
      for (const item of engines.items()) {
        if (item.isMap) for (const [name, settings] of item.entries()) this.service(name, settings);
        else if (typeof item.value() === 'string') this.service(item.value() as string, item);
      }
      for (const [key, v] of src.entries())
        if (key !== 'minion' && key !== 'engines') this.skip(v, `not converted: '${key}' is not a service`);
      const salt = minion?.entries().filter(([k]) => k !== 'engines') ?? [];
      if (minion && salt.length)
        this.skip(minion, `not converted: the Salt minion's settings (${salt.map(([k]) => k).join(', ')})`);
      return;
    }
    const services = src.get('services');
    if (services) {
      for (const item of services.items()) {
        const name = item.get('name')?.value();
        if (typeof name === 'string') this.service(name, item);
        else this.skip(item, 'a service without a name');
      }
      for (const [name, settings] of services.entries()) this.service(name, settings);
      return;
    }
    const own = src.entries().some(([k]) => SERVICE_KEYS.has(k));
    if (own) {
      const name = src.get('name')?.value();
      this.service(typeof name === 'string' ? name : path.basename(this.file).replace(/\.[^.]*$/, ''), src);
      return;
    }
    for (const [name, settings] of src.entries()) this.service(name, settings);
  }

  private service(name: string, src: Src): void {
    if (name === 'event_reactor') {
      this.reactorsOf(src, this.rules);
      for (const [key, v] of src.entries())
        if (key !== 'reactors' && key !== 'mappings')
          this.skip(v, `not converted: the event reactor's '${key}'`);
      return;
    }
    const instead = NO_SERVICE[name];
    if (instead) {
      this.skip(src, `the ${name} service is not converted: ${instead}`);
      return;
    }
    if (src.get('enabled')?.value() === false) {
      this.skip(src, `the ${name} service is disabled: left out`);
      return;
    }
    const map = SERVICES[name];
    let unique = map?.name ?? nameFor(name, 'service');
    for (let n = 2; unique in this.services; n++) unique = `${map?.name ?? nameFor(name, 'service')}${n}`;
    const target: Target = {
      name: unique,
      map,
      driver: map?.driver ?? 'module',
      hooks: new Map(),
      defaultReturner: src.get('returner'),
    };
    if (map?.note) this.skip(src, `check: ${map.note}`);
    const out: Obj = { driver: target.driver, settings: this.settings(name, target, src) };
    const hooks =
      src
        .get('hooks')
        ?.items()
        .flatMap((h) => this.hook(target, h) ?? []) ?? [];
    if (hooks.length) out.hooks = hooks;
    const workers =
      src
        .get('workers')
        ?.items()
        .flatMap((w, i) => this.worker(target, w, i) ?? []) ?? [];
    if (workers.length) out.workers = workers;
    const reactors: Obj[] = [];
    this.reactorsOf(src, reactors);
    if (reactors.length) out.reactors = reactors;
    this.services[target.name] = out;
  }

  /** The driver's settings from AutoPi's; what has no counterpart is listed. */
  private settings(name: string, t: Target, src: Src): Obj {
    const settings: Obj = {};
    const serial = src.get('serial_conn');
    if (t.driver === 'elm327' || t.driver === 'nmea') {
      const device = serial?.get('device')?.value();
      settings.port =
        typeof device === 'string' ? device : t.driver === 'elm327' ? '/dev/serial0' : '/dev/ttyUSB1';
      const baud = serial?.get('baudrate')?.value();
      if (isNum(baud)) settings.baudrate = baud;
      const timeout = serial?.get('timeout')?.value();
      if (t.driver === 'elm327' && isNum(timeout)) settings.timeout = seconds(timeout);
    } else if (t.driver === 'motion') settings.device = 'mma8452';
    else if (t.driver === 'module') {
      settings.module = `./${t.name}.js`;
      this.skip(
        src,
        `the custom service ${name}'s Python code does not convert: write ./${t.name}.js with defineService ` +
          `(pitcrew new service ${t.name} starts one) answering the handlers its workers call`,
      );
      const own = src.get('settings');
      if (own?.isMap) Object.assign(settings, own.value());
    }
    for (const [key, v] of src.entries()) {
      if (SERVICE_KEYS.has(key) || key === 'name') continue;
      if (key === 'serial_conn' && (t.driver === 'elm327' || t.driver === 'nmea')) continue;
      this.skip(v, `not converted: ${name}'s setting '${key}'`);
    }
    return settings;
  }

  /** A service hook `{name, kind, func, kwargs}` as pitcrew's, when its function is one pitcrew has. */
  private hook(t: Target, h: Src): Obj | undefined {
    const name = h.get('name')?.value();
    const kind = h.get('kind')?.value() as HookKind;
    const func = h.get('func')?.value();
    if (typeof name !== 'string' || typeof func !== 'string')
      return this.skip(h, 'a hook needs a name and a func');
    if (!HOOK_KINDS.includes(kind)) return this.skip(h, `not converted: hooks of kind '${String(kind)}'`);
    if (func.includes('.'))
      return this.skip(
        h,
        `not converted: the Salt function ${func} as a hook; write it as a module hook (use: ./file.js#export)`,
      );
    const steps = this.builtin(t, func.replace(new RegExp(`_${kind}$`), ''), kind, h);
    if (!steps) return undefined;
    t.hooks.set(name, steps);
    for (const k of ['args', 'kwargs']) {
      const a = h.get(k);
      if (a)
        this.skip(
          a,
          `not converted: the hook's ${k}; pitcrew's ${steps.map((s) => s.use).join(' and ')} take their own`,
        );
    }
    if (steps.length !== 1) return undefined;
    return { name: nameFor(name, 'hook'), kind: steps[0]!.kind, use: steps[0]!.use };
  }

  /** An AutoPi built-in hook as pitcrew steps; undefined (and listed) when it has none. */
  private builtin(t: Target, name: string, kind: HookKind, at: Src): Step[] | undefined {
    const own = t.hooks.get(name);
    if (own) return own;
    const mapped = HOOKS[hookKey(name, kind)]?.[kind];
    if (!mapped) return this.skip(at, `not converted: the ${kind} '${name}' has no counterpart in pitcrew`);
    if ('dropped' in mapped)
      return this.skip(at, `left out: the ${kind} '${name}': ${(mapped as Dropped).dropped}`);
    if (mapped.some((s) => s.use === 'cloud')) this.usesCloud = true;
    return [...(mapped as readonly Step[])];
  }

  private worker(t: Target, w: Src, i: number): Obj | undefined {
    const out: Obj = { name: nameFor(w.get('name')?.value(), `worker${i + 1}`) };
    const loop = w.get('loop')?.value();
    const interval = w.get('interval')?.value() ?? 1;
    if (isNum(interval) && interval > 0) out.interval = seconds(interval);
    else {
      out.interval = '1s';
      this.skip(
        w.get('interval') ?? w,
        'interval 0 (no pause) is a busy loop in pitcrew: made 1s, set what the data needs',
      );
    }
    const delay = w.get('delay')?.value();
    if (isNum(delay) && delay > 0) out.delay = seconds(delay);
    if (isNum(loop) && loop !== -1) out.loop = loop;
    if (w.get('suppress_exceptions')?.value() === false) out.on_error = 'stop';
    for (const k of ['kill_upon_success', 'transactional', 'auto_start']) {
      const v = w.get(k)?.value();
      if (typeof v === 'boolean') out[k] = v;
    }
    const known = new Set(['name', 'interval', 'delay', 'loop', 'suppress_exceptions', 'messages']);
    for (const [k, v] of w.entries())
      if (!known.has(k) && !(k in out)) this.skip(v, `not converted: the worker's '${k}'`);
    const messages =
      w
        .get('messages')
        ?.items()
        .flatMap((m) => this.message(t, m) ?? []) ?? [];
    if (!messages.length)
      return this.skip(w, `the worker ${String(out.name)} has no message left to run: left out`);
    out.messages = messages;
    return out;
  }

  private message(t: Target, m: Src): Obj | undefined {
    const handler = m.get('handler')?.value() ?? t.map?.handler;
    if (typeof handler !== 'string') return this.skip(m, 'a message without a handler');
    const args = m.get('args')?.value() ?? [];
    const kwargs = (m.get('kwargs')?.value() ?? {}) as Obj;
    if (!Array.isArray(args) || typeof kwargs !== 'object')
      return this.skip(m, 'args must be a list and kwargs a map');
    const call = this.handler(t, handler, args, kwargs, m);
    if (!call) return undefined;
    const steps = new Map<HookKind, string[]>(STEP_ORDER.map((k) => [k, []]));
    for (const kind of STEP_ORDER) {
      const at = m.get(kind) ?? (kind === 'returner' ? t.defaultReturner : undefined);
      for (const name of at?.names() ?? []) {
        for (const s of this.builtin(t, name, kind, at!) ?? []) {
          // A service hook keeps its own name; a built-in is called by pitcrew's.
          const ref = t.hooks.has(name) && t.hooks.get(name)!.length === 1 ? nameFor(name, 'hook') : s.use;
          const list = steps.get(s.kind)!;
          if (!list.includes(ref)) list.push(ref);
        }
      }
    }
    const validator = m.get('validator');
    if (validator)
      this.skip(validator, 'not converted: validators; a filter after the handler decides the same');
    const known = new Set(['handler', 'args', 'kwargs', 'workflow', 'validator', ...STEP_ORDER]);
    for (const [k, v] of m.entries()) if (!known.has(k)) this.skip(v, `not converted: the message's '${k}'`);
    const out: Obj = { ...call };
    for (const [kind, list] of steps) if (list.length) out[kind] = list.length === 1 ? list[0] : list;
    return out;
  }

  /** A message's handler and its arguments as the pitcrew driver's. */
  private handler(t: Target, handler: string, args: unknown[], kwargs: Obj, at: Src): Obj | undefined {
    const { force: _force, ...rest } = kwargs;
    switch (t.driver) {
      case 'elm327':
        if (handler === 'query') return this.obdQuery(args, rest, at);
        if (handler === 'execute' && typeof args[0] === 'string')
          return { handler: 'raw', args: { command: args[0] } };
        return this.skip(
          at,
          `not converted: obd_manager's '${handler}' (the elm327 driver answers query, dtc, clear_dtc, vin, voltage and raw)`,
        );
      case 'nmea':
        if (
          (handler === 'gnss_query' && (args[0] ?? 'location') === 'location') ||
          handler === 'nmea0183_readout'
        )
          return { handler: 'location' };
        return this.skip(
          at,
          `not converted: the GNSS handler '${handler}' (the nmea driver answers location)`,
        );
      case 'motion':
        if (handler === 'query') return { handler: 'accel' };
        return this.skip(
          at,
          `not converted: acc_manager's '${handler}' (the motion driver answers accel and calibrate)`,
        );
      case 'module': {
        const a: Obj = { ...kwargs };
        if (args.length) a.args = args;
        return Object.keys(a).length ? { handler, args: a } : { handler };
      }
      default:
        return this.skip(at, `not converted: the handler '${handler}'`);
    }
  }

  /** A python-OBD query: a J1979 PID by name, one given by mode and pid, or a command of its own. */
  private obdQuery(args: unknown[], kwargs: Obj, at: Src): Obj | undefined {
    const name = args[0] ?? kwargs.name;
    if (typeof name !== 'string') return this.skip(at, 'a query without a command name');
    const command = OBD_COMMANDS[name.toUpperCase()];
    if (command) return { handler: command };
    const { mode, pid, bytes, formula, unit, name: _n, ...other } = kwargs;
    for (const k of Object.keys(other))
      this.skip(at.get('kwargs')?.get(k) ?? at, `not converted: the query's ${k}`);
    if (pid === undefined) {
      if (findPid(name)) return { handler: 'query', args: { pid: name.toUpperCase() } };
      return this.skip(
        at,
        `${name} is not a J1979 PID pitcrew knows: give the message kwargs mode, pid, bytes and formula`,
      );
    }
    const spec: Obj = { name, mode: mode ?? 1, pid };
    if (isNum(bytes)) spec.bytes = bytes;
    if (typeof unit === 'string') spec.unit = unit;
    if (typeof formula === 'string') {
      try {
        compileFormula(formula, isNum(bytes) ? bytes : 1);
        spec.formula = formula;
      } catch (e) {
        return this.skip(at, `the formula of ${name} does not convert: ${(e as Error).message}`);
      }
    }
    return { handler: 'query', args: { pid: spec } };
  }

  /** A service's `reactors` (or the older `mappings`) as rules. */
  private reactorsOf(src: Src, into: Obj[]): void {
    for (const key of ['reactors', 'mappings'])
      for (const [i, r] of (src.get(key)?.items() ?? []).entries()) {
        const rule = this.rule(r, `${key === 'mappings' ? 'mapping' : 'reactor'}${i + 1}`);
        if (rule) into.push(rule);
      }
  }

  private rule(r: Src, fallback: string): Obj | undefined {
    const name = nameFor(r.get('name')?.value(), fallback);
    const on = patternOf(r);
    if ('why' in on) return this.skip(on.from, `the reactor ${name} is left out: ${on.why}`);
    const conditions = [...(r.get('conditions')?.items() ?? []), ...[r.get('condition') ?? []].flat()];
    const when: unknown[] = [];
    for (const c of conditions) {
      const text = c.value();
      try {
        if (typeof text !== 'string') throw new ExprError('it is not text');
        when.push(conditionToLogic(text));
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
        return this.skip(c, `the reactor ${name} is left out: its condition does not convert (${e.message})`);
      }
    }
    const resolve = r.get('keyword_resolve')?.value() === true;
    const actionList = [...(r.get('actions')?.items() ?? []), ...[r.get('action') ?? []].flat()];
    const actions = actionList.flatMap((a) => this.action(a, resolve) ?? []);
    if (!actions.length) return this.skip(r, `the reactor ${name} has no action left: left out`);
    const chain = r.get('chain_conditionally');
    if (chain?.value() === true)
      this.skip(
        chain,
        'check: a pitcrew rule stops at the first action that fails, not at one that returns false',
      );
    const rule: Obj = { name, on: on.pattern };
    if (when.length) rule.when = when.length === 1 ? when[0] : { and: when };
    rule.do = actions;
    return rule;
  }

  /** An action message (`handler` with `args`/`kwargs`) as a pitcrew action. */
  private action(a: Src, resolve: boolean): Obj | undefined {
    let args: unknown[];
    let kwargs: Obj;
    try {
      const raw = a.get('args')?.value() ?? [];
      args = resolve ? (resolveAll(raw) as unknown[]) : (raw as unknown[]);
      kwargs = (
        resolve ? resolveAll(a.get('kwargs')?.value() ?? {}) : (a.get('kwargs')?.value() ?? {})
      ) as Obj;
    } catch (e) {
      if (!(e instanceof ExprError)) throw e;
      return this.skip(a, `not converted: an action's value (${e.message})`);
    }
    const handler = a.get('handler')?.value();
    if (handler === 'returner') {
      if (args[0] === 'cloud.returner_event') {
        this.usesCloud = true;
        const data = args[1];
        return { forward: data === undefined || data === '{{ event }}' ? {} : { data } };
      }
      return this.skip(a, `not converted: the returner ${String(args[0])}`);
    }
    if (handler !== 'module' && handler !== 'module_direct')
      return this.skip(a, `not converted: actions through the '${String(handler)}' handler`);
    const fn = String(args[0]);
    const power = POWER_FUNCTIONS[fn];
    if (power) {
      this.usesPower = true;
      return { power };
    }
    const done = DONE_BY_ITSELF[fn];
    if (done) return this.skip(a, `left out: ${fn}: ${done}`);
    if (fn === 'event.fire' || fn === 'minionutil.trigger_event') {
      const tag = fn === 'event.fire' ? (args[2] ?? kwargs.tag) : (args[1] ?? kwargs.event);
      const data = fn === 'event.fire' ? (args[1] ?? kwargs.data) : kwargs.data;
      if (typeof tag !== 'string') return this.skip(a, `${fn} without a tag`);
      return { emit: data === undefined ? { tag } : { tag, data } };
    }
    if (fn === 'cmd.run') {
      const cmd = args[1] ?? kwargs.cmd;
      if (typeof cmd !== 'string' || SHELL_CHARS.test(cmd))
        return this.skip(
          a,
          'not converted: cmd.run of a shell line; exec runs a program with its arguments (command: [program, arg…])',
        );
      const exec: Obj = { command: cmd.trim().split(/\s+/) };
      if (isNum(kwargs.timeout)) exec.timeout = seconds(kwargs.timeout);
      return { exec };
    }
    if (fn === 'obd.query' && typeof args[1] === 'string') {
      const command = OBD_COMMANDS[args[1].toUpperCase()];
      return {
        call: { service: 'obd', handler: command ?? 'query', ...(command ? {} : { args: { pid: args[1] } }) },
      };
    }
    return this.skip(a, `not converted: the Salt function ${fn} has no counterpart in pitcrew`);
  }

  config(): Obj {
    const config: Obj = { version: 1, services: this.services };
    // The link stays off until the unit is given a broker, as in the default config.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a config's ${env:…} reference, written out
    if (this.usesCloud) config.cloud = { mqtt: { url: '${env:PITCREW_MQTT_URL:-}' } };
    // The power action asks the power section, which reads the adapter's voltage where there is one.
    if (this.usesPower)
      config.power = this.services.obd?.driver === 'elm327' ? { voltage: 'signals.obd.voltage' } : {};
    if (this.rules.length) config.reactor = { rules: this.rules };
    return config;
  }
}

/** Keyword-resolved values: every `$event…` string as a template. */
function resolveAll(v: unknown): unknown {
  if (typeof v === 'string') return valueToTemplate(v);
  if (Array.isArray(v)) return v.map(resolveAll);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveAll(x)]));
  return v;
}

export interface ImportResult {
  config: Obj;
  /** What was not converted (or needs a look), where it was written. */
  issues: ConfigIssue[];
}

/** AutoPi's services, workers, hooks and reactors (a pillar's engines, or one service) as pitcrew config. */
export function importAutopi(file: string, text: string): ImportResult {
  const issues: ConfigIssue[] = [];
  const root = parseYamlSource(file, text, {}, issues);
  const conv = new AutopiImport(file, issues);
  if (root) conv.root(new Src(root, []));
  issues.sort((a, b) => a.line - b.line || a.column - b.column);
  return { config: conv.config(), issues };
}
