import { existsSync } from 'node:fs';
import path from 'node:path';
import cron from 'node-cron';
import { ACTION_NAMES } from '../../schemas/reactor.js';
import type { HookKind } from '../../schemas/services.js';
import { PatternError, parsePattern } from '../core/patterns.js';
import { parseTemplate, TemplateError } from '../core/templates.js';
import { DRIVERS } from '../drivers/registry.js';
import { BUILTIN_HOOK_DEFS, BUILTIN_HOOKS, MODULE_REF_RE } from '../hooks/registry.js';
import { checkLogic } from '../reactor/logic-check.js';
import { type Composed, positionOf } from './compose.js';
import { displayFile, type KeyPath } from './errors.js';
import { type SchemaProblem, translate } from './schema-issues.js';
import { didYouMean } from './suggest.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const steps = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

const STEP_KINDS = ['converter', 'trigger', 'filter', 'enricher', 'returner'] as const;
const TEMPLATE_ROOTS = new Set(['event', 'match', 'signals', 'state', 'unit', 'now', 'result']);

/** A service's own hooks by name, with their kinds. */
function localHooks(svc: Obj): Map<string, HookKind> {
  const local = new Map<string, HookKind>();
  for (const h of list(svc.hooks))
    if (isObj(h) && typeof h.name === 'string') local.set(h.name, h.kind as HookKind);
  return local;
}

/** Checks that need the whole config but no running agent: names, cron, logic, patterns, templates. */
export class SemanticChecker {
  readonly problems: SchemaProblem[] = [];

  constructor(private readonly c: Composed) {}

  run(): SchemaProblem[] {
    const data = this.c.data;
    if (!isObj(data)) return this.problems;
    const services = isObj(data.services) ? data.services : {};
    for (const [name, svc] of Object.entries(services)) if (isObj(svc)) this.service(name, svc);
    const reactor = isObj(data.reactor) ? data.reactor : {};
    this.rules(list(reactor.rules), services, data);
    const updates = isObj(data.updates) ? data.updates : {};
    for (const kind of ['fota', 'sota']) {
      const policy = updates[kind];
      if (isObj(policy) && policy.when !== undefined) this.logic(policy.when, ['updates', kind, 'when']);
    }
    const rollout = isObj(data.rollout) ? data.rollout : {};
    if (isObj(rollout.health) && rollout.health.when !== undefined) {
      this.logic(rollout.health.when, ['rollout', 'health', 'when']);
    }
    return this.problems;
  }

  private add(p: KeyPath, message: string, atKey = false) {
    this.problems.push({ path: p, message, atKey });
  }

  private where(p: KeyPath): string {
    const pos = positionOf(this.c, p);
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

  private moduleRef(ref: string, p: KeyPath): boolean {
    const m = MODULE_REF_RE.exec(ref);
    if (!m) return false;
    this.fileExists(m[1]!, p);
    return true;
  }

  private fileExists(rel: string, p: KeyPath) {
    const dir = path.dirname(positionOf(this.c, p).file);
    if (!existsSync(path.resolve(dir, rel))) this.add(p, `file ${rel} not found (relative to ${dir})`);
  }

  private service(name: string, svc: Obj) {
    const base: KeyPath = ['services', name];
    const settings = isObj(svc.settings) ? svc.settings : {};
    if (svc.driver === 'can') {
      list(settings.dbc).forEach((f, i) => {
        if (typeof f === 'string') this.fileExists(f, [...base, 'settings', 'dbc', i]);
      });
      if (
        isObj(settings.source) &&
        settings.source.type === 'replay' &&
        typeof settings.source.file === 'string'
      ) {
        this.fileExists(settings.source.file, [...base, 'settings', 'source', 'file']);
      }
    }
    if (svc.driver === 'module' && typeof settings.module === 'string') {
      this.fileExists(settings.module, [...base, 'settings', 'module']);
    }
    const hooks = list(svc.hooks);
    this.unique(hooks, [...base, 'hooks'], 'hook');
    const local = localHooks(svc);
    hooks.forEach((h, i) => {
      if (!isObj(h) || typeof h.name !== 'string' || typeof h.use !== 'string') return;
      const usePath = [...base, 'hooks', i, 'use'];
      if (this.moduleRef(h.use, usePath)) return;
      const builtin = BUILTIN_HOOKS[h.use];
      if (builtin === undefined)
        this.add(usePath, `unknown hook '${h.use}'${didYouMean(h.use, Object.keys(BUILTIN_HOOKS))}`);
      else if (builtin !== h.kind) this.add(usePath, `'${h.use}' is a ${builtin}, not a ${String(h.kind)}`);
      else this.hookArgs(h.use, h.args, [...base, 'hooks', i, 'args']);
    });

    const workers = list(svc.workers);
    this.unique(workers, [...base, 'workers'], 'worker');
    const handlers = DRIVERS[svc.driver as keyof typeof DRIVERS]?.handlers;
    workers.forEach((w, wi) => {
      if (!isObj(w)) return;
      const wp: KeyPath = [...base, 'workers', wi];
      if (typeof w.cron === 'string') this.cron(w.cron, [...wp, 'cron']);
      list(w.messages).forEach((m, mi) => {
        if (!isObj(m)) return;
        const mp: KeyPath = [...wp, 'messages', mi];
        if (typeof m.handler === 'string') this.handler(m.handler, [...mp, 'handler'], handlers, local);
        for (const kind of STEP_KINDS) {
          const names = steps(m[kind]);
          names.forEach((n, si) => {
            if (typeof n !== 'string') return;
            const sp = Array.isArray(m[kind]) ? [...mp, kind, si] : [...mp, kind];
            this.step(n, kind, sp, local);
          });
        }
      });
    });
  }

  /** A built-in hook's args, checked against the schema the hook declares. */
  private hookArgs(use: string, args: unknown, p: KeyPath) {
    const def = BUILTIN_HOOK_DEFS.get(use);
    const parsed = def?.args.safeParse(args ?? {}, { reportInput: true });
    if (def && parsed && !parsed.success) {
      for (const issue of parsed.error.issues) {
        for (const prob of translate(def.args, issue))
          this.problems.push({ ...prob, path: [...p, ...prob.path] });
      }
    }
  }

  private handler(
    name: string,
    p: KeyPath,
    handlers: readonly string[] | 'any' | undefined,
    local: Map<string, HookKind>,
  ) {
    if (this.moduleRef(name, p) || handlers === 'any' || handlers === undefined) return;
    const hook = local.get(name);
    if (hook !== undefined) {
      if (hook !== 'handler') this.add(p, `hook '${name}' is a ${hook}, not a handler`);
      return;
    }
    if (!handlers.includes(name)) {
      this.add(
        p,
        `unknown handler '${name}'${didYouMean(name, handlers)}; this driver has ${handlers.join(', ')}`,
      );
    }
  }

  private step(name: string, kind: HookKind, p: KeyPath, local: Map<string, HookKind>) {
    if (this.moduleRef(name, p)) return;
    const found = local.get(name) ?? BUILTIN_HOOKS[name];
    if (found === undefined) {
      const same = [...local.keys(), ...Object.keys(BUILTIN_HOOKS)];
      this.add(p, `unknown ${kind} '${name}'${didYouMean(name, same)}`);
    } else if (found !== kind) {
      this.add(p, `'${name}' is a ${found}, not a ${kind}`);
    }
  }

  private cron(expr: string, p: KeyPath) {
    const r = cron.validateDetailed(expr);
    if (!r.valid) {
      const why = r.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      this.add(p, `bad cron expression '${expr}'${why ? ` (${why})` : ''}`);
    }
  }

  private logic(expr: unknown, p: KeyPath) {
    for (const prob of checkLogic(expr)) this.add([...p, ...prob.path], prob.message, true);
  }

  private rules(rules: unknown[], services: Obj, root: Obj) {
    this.unique(rules, ['reactor', 'rules'], 'rule');
    rules.forEach((r, i) => {
      if (!isObj(r)) return;
      const rp: KeyPath = ['reactor', 'rules', i];
      const on = Array.isArray(r.on) ? r.on : [r.on];
      on.forEach((pat, pi) => {
        if (typeof pat !== 'string') return;
        try {
          parsePattern(pat);
        } catch (e) {
          if (e instanceof PatternError)
            this.add(Array.isArray(r.on) ? [...rp, 'on', pi] : [...rp, 'on'], e.message);
        }
      });
      if (r.when !== undefined) this.logic(r.when, [...rp, 'when']);
      this.actions(list(r.do), [...rp, 'do'], services, root);
      this.actions(list(r.else), [...rp, 'else'], services, root);
    });
  }

  private actions(actions: unknown[], base: KeyPath, services: Obj, root: Obj) {
    actions.forEach((a, i) => {
      if (!isObj(a)) return;
      const [name] = Object.keys(a);
      if (name === undefined || !(ACTION_NAMES as readonly string[]).includes(name)) return;
      const ap: KeyPath = [...base, i, name];
      const body = a[name];
      if (name === 'if' && isObj(body)) {
        if (body.when !== undefined) this.logic(body.when, [...ap, 'when']);
        this.actions(list(body.then), [...ap, 'then'], services, root);
        this.actions(list(body.else), [...ap, 'else'], services, root);
        return;
      }
      this.templates(body, ap);
      if (!isObj(body)) return;
      if ((name === 'call' || name === 'worker') && typeof body.service === 'string') {
        const svc = services[body.service];
        if (!isObj(svc)) {
          this.add(
            [...ap, 'service'],
            `unknown service '${body.service}'${didYouMean(body.service, Object.keys(services))}`,
          );
        } else if (name === 'worker' && typeof body.name === 'string') {
          const names = list(svc.workers).flatMap((w) =>
            isObj(w) && typeof w.name === 'string' ? [w.name] : [],
          );
          if (!names.includes(body.name)) {
            this.add(
              [...ap, 'name'],
              `service '${body.service}' has no worker '${body.name}'${didYouMean(body.name, names)}`,
            );
          }
        } else if (name === 'call' && typeof body.handler === 'string') {
          this.handler(
            body.handler,
            [...ap, 'handler'],
            DRIVERS[svc.driver as keyof typeof DRIVERS]?.handlers,
            localHooks(svc),
          );
        }
      }
      if (
        name === 'return' &&
        typeof body.returner === 'string' &&
        !this.moduleRef(body.returner, [...ap, 'returner'])
      ) {
        const returners = Object.keys(BUILTIN_HOOKS).filter((h) => BUILTIN_HOOKS[h] === 'returner');
        if (!returners.includes(body.returner)) {
          this.add(
            [...ap, 'returner'],
            `unknown returner '${body.returner}'${didYouMean(body.returner, returners)}`,
          );
        }
      }
      if (name === 'update' && typeof body.start === 'string') {
        const updates = isObj(root.updates) ? root.updates : undefined;
        if (!updates || !isObj(updates[body.start])) {
          this.add(
            [...ap, 'start'],
            `updates.${body.start} is not configured, so an update cannot be started`,
          );
        }
      }
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
        if (e instanceof TemplateError) this.add(p, e.message);
        else throw e;
      }
    } else if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) this.templates(v, [...p, i]);
    } else if (isObj(value)) for (const [k, v] of Object.entries(value)) this.templates(v, [...p, k]);
  }
}
