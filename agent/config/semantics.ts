import { existsSync } from 'node:fs';
import path from 'node:path';
import { HOOK_KINDS, type HookKind } from '../../schemas/services.js';
import { checkCron, cronStepProblem } from '../core/cron.js';
import { errors, errorText, isCatalogued } from '../core/errors.js';
import { parsePattern } from '../core/patterns.js';
import { didYouMean } from '../core/suggest.js';
import { parseTemplate } from '../core/templates.js';
import { driverNamed } from '../drivers/registry.js';
import { resolveStep, type StepScope } from '../hooks/resolve.js';
import { actionNamed } from '../reactor/actions/index.js';
import type { ActionCheck } from '../reactor/actions/types.js';
import { checkLogic } from '../reactor/logic-check.js';
import { type Composed, nodeAt, positionOf } from './compose.js';
import { displayFile, type KeyPath } from './errors.js';
import { listenerProblems } from './listeners.js';
import type { ConfigMemo } from './memo.js';
import { type SchemaProblem, translate } from './schema-issues.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const steps = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

const STEP_KINDS = HOOK_KINDS.filter((k) => k !== 'handler');
const TEMPLATE_ROOTS = new Set(['event', 'match', 'signals', 'state', 'unit', 'now', 'result']);

function valueAt(v: unknown, p: KeyPath): unknown {
  for (const seg of p)
    v = isObj(v) || Array.isArray(v) ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v;
}

/** The name space of a service's steps, as the running agent will resolve them. */
function scopeOf(svc: Obj): StepScope {
  const driver = typeof svc.driver === 'string' ? driverNamed(svc.driver) : undefined;
  const local = new Map<string, { kind: string; use: string; args?: unknown }>();
  for (const h of list(svc.hooks))
    if (isObj(h) && typeof h.name === 'string' && typeof h.kind === 'string' && typeof h.use === 'string')
      local.set(h.name, { kind: h.kind, use: h.use, args: h.args });
  return { local, handlers: driver?.handlers ?? 'any', driverHooks: driver?.hooks ?? [] };
}

/** Checks that need the whole config but no running agent: names, cron, logic, patterns, templates. */
export class SemanticChecker {
  readonly problems: SchemaProblem[] = [];

  /** The rules' problems this run found or took from the memo: the memo's for the next run. */
  private readonly checked = new Map<string, { ctx: string; problems: SchemaProblem[] }>();

  constructor(
    private readonly composed: Composed,
    /** Problems of rules a load before already checked, by what the rules say. */
    private readonly memo?: ConfigMemo,
  ) {}

  run(): SchemaProblem[] {
    const data = this.composed.data;
    if (!isObj(data)) return this.problems;
    const services = isObj(data.services) ? data.services : {};
    for (const [name, svc] of Object.entries(services)) if (isObj(svc)) this.service(name, svc);
    const reactor = isObj(data.reactor) ? data.reactor : {};
    this.rules(list(reactor.rules), services, data);
    for (const [name, svc] of Object.entries(services))
      if (isObj(svc)) this.rules(list(svc.reactors), services, data, ['services', name, 'reactors']);
    const updates = isObj(data.updates) ? data.updates : {};
    for (const kind of ['fota', 'sota']) {
      const policy = updates[kind];
      if (isObj(policy) && policy.when !== undefined) this.logic(policy.when, ['updates', kind, 'when']);
    }
    if (updates.protocol === 'aos') this.aosTrust(data, updates);
    const cloud = isObj(data.cloud) && isObj(data.cloud.mqtt) ? data.cloud.mqtt : {};
    if (cloud.when !== undefined) this.logic(cloud.when, ['cloud', 'mqtt', 'when']);
    const power = isObj(data.power) ? data.power : {};
    if (isObj(power.sleep) && power.sleep.when !== undefined)
      this.logic(power.sleep.when, ['power', 'sleep', 'when']);
    if (power.inhibit !== undefined) this.logic(power.inhibit, ['power', 'inhibit']);
    const rollout = isObj(data.rollout) ? data.rollout : {};
    if (isObj(rollout.health) && rollout.health.when !== undefined) {
      this.logic(rollout.health.when, ['rollout', 'health', 'when']);
    }
    this.problems.push(...listenerProblems(this.composed));
    if (this.memo) this.memo.checks = this.checked;
    return this.problems;
  }

  /**
   * `updates.protocol: aos` takes desired statuses unsigned, as an Aos cloud sends them: the link
   * itself must then prove who is talking (mutual TLS), and nothing may arrive by a side door.
   */
  private aosTrust(data: Obj, updates: Obj) {
    const mqtt = isObj(data.cloud) && isObj(data.cloud.mqtt) ? data.cloud.mqtt : {};
    const url = typeof mqtt.url === 'string' ? mqtt.url : '';
    if (!/^(mqtts|wss):\/\//.test(url) || mqtt.cert === undefined || mqtt.key === undefined)
      this.add(
        ['updates', 'protocol'],
        'aos takes unsigned desired statuses, trusting the link as Aos does: cloud.mqtt needs an mqtts:// url with a client cert and key (mutual TLS)',
      );
    if (updates.desired_file !== undefined)
      this.add(
        ['updates', 'desired_file'],
        'with protocol aos a desired status comes only over the mutual-TLS link',
      );
  }

  private add(p: KeyPath, message: string, atKey = false) {
    this.problems.push({ path: p, message, atKey });
  }

  private where(p: KeyPath): string {
    const pos = positionOf(this.composed, p);
    return `${displayFile(pos.file)}:${pos.line}:${pos.column}`;
  }

  /** Reports every entry whose `name` repeats an earlier one. */
  private unique(items: unknown[], base: KeyPath, what: string) {
    const first = new Map<string, number>();
    items.forEach((item, i) => {
      if (!isObj(item) || typeof item.name !== 'string') return;
      const prev = first.get(item.name);
      if (prev === undefined) first.set(item.name, i);
      else
        this.add(
          [...base, i, 'name'],
          `${what} '${item.name}' is defined twice: here and at ${this.where([...base, prev, 'name'])}`,
        );
    });
  }

  private fileExists(rel: string, p: KeyPath) {
    const dir = path.dirname(positionOf(this.composed, p).file);
    if (!existsSync(path.resolve(dir, rel))) this.add(p, `file ${rel} not found (relative to ${dir})`);
  }

  private service(name: string, svc: Obj) {
    const base: KeyPath = ['services', name];
    const settings = isObj(svc.settings) ? svc.settings : {};
    const driver = typeof svc.driver === 'string' ? driverNamed(svc.driver) : undefined;
    for (const fp of driver?.files(settings) ?? []) {
      const file = valueAt(settings, fp);
      if (typeof file === 'string') this.fileExists(file, [...base, 'settings', ...fp]);
    }
    const hooks = list(svc.hooks);
    this.unique(hooks, [...base, 'hooks'], 'hook');
    const scope = scopeOf(svc);
    hooks.forEach((h, i) => {
      if (!isObj(h) || typeof h.name !== 'string' || typeof h.kind !== 'string') return;
      this.step(h.name, h.kind as HookKind, [...base, 'hooks', i, 'use'], scope, [
        ...base,
        'hooks',
        i,
        'args',
      ]);
    });

    const workers = list(svc.workers);
    this.unique(workers, [...base, 'workers'], 'worker');
    workers.forEach((w, wi) => {
      if (!isObj(w)) return;
      const wp: KeyPath = [...base, 'workers', wi];
      if (typeof w.cron === 'string') this.cron(w.cron, [...wp, 'cron']);
      list(w.messages).forEach((m, mi) => {
        if (!isObj(m)) return;
        const mp: KeyPath = [...wp, 'messages', mi];
        if (typeof m.handler === 'string') this.step(m.handler, 'handler', [...mp, 'handler'], scope);
        for (const kind of STEP_KINDS) {
          const names = steps(m[kind]);
          names.forEach((n, si) => {
            if (typeof n !== 'string') return;
            this.step(n, kind, Array.isArray(m[kind]) ? [...mp, kind, si] : [...mp, kind], scope);
          });
        }
      });
    });
  }

  /**
   * A step name, resolved exactly as the running agent will: an unknown name or a wrong kind is
   * reported here, a module's file must exist, a hook's args are checked against its schema.
   */
  private step(name: string, kind: HookKind, p: KeyPath, scope: StepScope, argsPath?: KeyPath) {
    let step: ReturnType<typeof resolveStep>;
    try {
      step = resolveStep(name, kind, scope);
    } catch (e) {
      this.add(p, errorText(e));
      return;
    }
    if (step.from === 'module') this.fileExists(step.file, p);
    if (step.from === 'hook' && argsPath) this.hookArgs(step.def.args, scope.local.get(name)?.args, argsPath);
  }

  /** A hook's args, checked against the schema the hook declares. */
  private hookArgs(schema: import('zod').ZodType, args: unknown, p: KeyPath) {
    const input = args ?? {};
    const parsed = schema.safeParse(input, { reportInput: true });
    if (parsed.success) return;
    for (const issue of parsed.error.issues) {
      for (const prob of translate(schema, issue, [], input))
        this.problems.push({ ...prob, path: [...p, ...prob.path] });
    }
  }

  private cron(expr: string, p: KeyPath) {
    const r = checkCron(expr);
    const why = r.valid ? cronStepProblem(expr) : r.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    if (!r.valid || why) this.add(p, `bad cron expression '${expr}'${why ? ` (${why})` : ''}`);
  }

  private logic(expr: unknown, p: KeyPath) {
    for (const prob of checkLogic(expr)) this.add([...p, ...prob.path], prob.message, true);
  }

  private rules(rules: unknown[], services: Obj, root: Obj, base: KeyPath = ['reactor', 'rules']) {
    this.unique(rules, base, 'rule');
    const seq = this.memo && nodeAt(this.composed, base);
    // What a rule's checks read beyond the rule: of each service its driver, its workers' names and
    // its hooks (`ActionCheck`: service, worker, handler), and which sections exist. A service's
    // settings are not among it: a changed setting leaves every rule's check as it was.
    const ctx = seq
      ? JSON.stringify([
          Object.entries(services).map(([name, s]) =>
            isObj(s)
              ? [name, s.driver, list(s.workers).map((w) => (isObj(w) ? w.name : w)), s.hooks]
              : [name, s],
          ),
          ['sota', 'fota'].map((k) => isObj(root.updates) && isObj(root.updates[k])),
          isObj(root.cloud),
          isObj(root.power),
        ])
      : '';
    rules.forEach((r, i) => {
      if (!isObj(r)) return;
      const rp: KeyPath = [...base, i];
      const node = seq?.t === 'seq' ? seq.items[i] : undefined;
      const key = node && this.memo!.key(node, r);
      const known = key === undefined ? undefined : (this.checked.get(key) ?? this.memo!.checks.get(key));
      if (known?.ctx === ctx) {
        for (const p of known.problems) this.problems.push({ ...p, path: [...rp, ...p.path] });
        this.checked.set(key!, known);
        return;
      }
      const from = this.problems.length;
      this.rule(r, rp, services, root);
      if (key !== undefined) {
        const problems = this.problems.slice(from).map((p) => ({ ...p, path: p.path.slice(rp.length) }));
        this.checked.set(key, { ctx, problems });
      }
    });
  }

  private rule(r: Obj, rp: KeyPath, services: Obj, root: Obj) {
    const on = Array.isArray(r.on) ? r.on : [r.on];
    on.forEach((pat, pi) => {
      if (typeof pat !== 'string') return;
      try {
        parsePattern(pat);
      } catch (e) {
        if (isCatalogued(e, errors.PATTERN_INVALID))
          this.add(Array.isArray(r.on) ? [...rp, 'on', pi] : [...rp, 'on'], e.message);
      }
    });
    if (r.when !== undefined) this.logic(r.when, [...rp, 'when']);
    this.actions(r.do, [...rp, 'do'], services, root);
    this.actions(r.else, [...rp, 'else'], services, root);
  }

  /** Each action's own checks (its registry entry's `check`), with paths below the action's body. */
  private actions(actions: unknown, base: KeyPath, services: Obj, root: Obj) {
    list(actions).forEach((a, i) => {
      if (!isObj(a)) return;
      const [name] = Object.keys(a);
      const def = name === undefined ? undefined : actionNamed(name);
      if (!def) return;
      const ap: KeyPath = [...base, i, name!];
      const svc = (s: string) => (isObj(services[s]) ? (services[s] as Obj) : undefined);
      const cx: ActionCheck = {
        add: (p, message) => this.add([...ap, ...p], message),
        logic: (expr, p) => this.logic(expr, [...ap, ...p]),
        actions: (nested, p) => this.actions(nested, [...ap, ...p], services, root),
        templates: (value, p) => this.templates(value, [...ap, ...p]),
        service: (s, p) => {
          if (svc(s)) return true;
          this.add([...ap, ...p], `unknown service '${s}'${didYouMean(s, Object.keys(services))}`);
          return false;
        },
        worker: (s, w, p) => {
          const names = list(svc(s)?.workers).flatMap((x) =>
            isObj(x) && typeof x.name === 'string' ? [x.name] : [],
          );
          if (!names.includes(w))
            this.add([...ap, ...p], `service '${s}' has no worker '${w}'${didYouMean(w, names)}`);
        },
        handler: (s, h, p) => this.step(h, 'handler', [...ap, ...p], scopeOf(svc(s) ?? {})),
        returner: (r, p) => this.step(r, 'returner', [...ap, ...p], scopeOf({})),
        updates: (kind) => isObj(root.updates) && isObj(root.updates[kind]),
        cloud: () => isObj(root.cloud),
        power: () => isObj(root.power),
      };
      def.check(a[name!], cx);
    });
  }

  private templates(value: unknown, p: KeyPath) {
    if (typeof value === 'string') {
      try {
        for (const part of parseTemplate(value)) {
          if (typeof part !== 'string' && !TEMPLATE_ROOTS.has(part.path[0]!)) {
            this.add(
              p,
              `template path '${part.path.join('.')}' must start with one of ${[...TEMPLATE_ROOTS].join(', ')}`,
            );
          }
        }
      } catch (e) {
        if (isCatalogued(e, errors.TEMPLATE_INVALID)) this.add(p, e.message);
        else throw e;
      }
    } else if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) this.templates(v, [...p, i]);
    } else if (isObj(value)) for (const [k, v] of Object.entries(value)) this.templates(v, [...p, k]);
  }
}
