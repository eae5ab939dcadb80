import path from 'node:path';
import { driverNamed } from '../drivers/registry.js';
import type { Settings } from '../drivers/types.js';
import { MODULE_REF_RE } from '../hooks/registry.js';
import { type Composed, positionOf } from './compose.js';
import type { KeyPath } from './errors.js';
import type { ConfigT } from './schema.js';

/**
 * Makes every file path in a config absolute, so the runtime never depends on the working
 * directory. What the config brings (includes, modules, DBCs, trust keys) resolves against the
 * directory of the file that names it (DESIGN §12). The unit's own places (its data, sockets,
 * certificates, download and install directories) resolve against `unitDir`, the directory of the
 * config the agent was started with, when given: a config from a git checkout or a bundle then
 * names the same places as the unit's own.
 */
export function resolvePaths(config: ConfigT, c: Composed, unitDir?: string): void {
  const dirOf = (p: KeyPath) => path.dirname(positionOf(c, p).file);
  const abs = (v: string | undefined, p: KeyPath) =>
    v === undefined || v === '' ? v : path.resolve(dirOf(p), v);
  const place = (v: string | undefined, p: KeyPath) =>
    v === undefined || v === '' ? v : path.resolve(unitDir ?? dirOf(p), v);
  const ref = (v: string, p: KeyPath) => {
    const m = MODULE_REF_RE.exec(v);
    return m ? `${path.resolve(dirOf(p), m[1]!)}#${m[2]}` : v;
  };

  config.unit.data_dir = place(config.unit.data_dir, ['unit', 'data_dir'])!;
  config.control.socket = place(config.control.socket, ['control', 'socket'])!;
  for (const [name, svc] of Object.entries(config.services)) {
    const base: KeyPath = ['services', name];
    const settings = svc.settings as Settings;
    for (const fp of driverNamed(svc.driver)?.files(settings) ?? []) {
      const parent = fp.slice(0, -1).reduce<Settings>((o, k) => o[k] as Settings, settings);
      const last = fp[fp.length - 1]!;
      const v = parent[last];
      if (typeof v === 'string') parent[last] = abs(v, [...base, 'settings', ...fp]);
    }
    svc.hooks.forEach((h, i) => {
      h.use = ref(h.use, [...base, 'hooks', i, 'use']);
    });
    svc.workers.forEach((w, wi) => {
      w.messages.forEach((m, mi) => {
        const mp: KeyPath = [...base, 'workers', wi, 'messages', mi];
        m.handler = ref(m.handler, [...mp, 'handler']);
        for (const kind of ['converter', 'trigger', 'filter', 'enricher', 'returner'] as const) {
          m[kind] = m[kind].map((n) => ref(n, [...mp, kind]));
        }
      });
    });
  }
  const mqtt = config.cloud?.mqtt;
  if (mqtt) for (const k of ['ca', 'cert', 'key'] as const) mqtt[k] = place(mqtt[k], ['cloud', 'mqtt', k]);
  const u = config.updates;
  if (u) {
    if (u.trust) u.trust.keys = u.trust.keys.map((k, i) => abs(k, ['updates', 'trust', 'keys', i])!);
    u.download.dir = place(u.download.dir, ['updates', 'download', 'dir'])!;
    u.desired_file = place(u.desired_file, ['updates', 'desired_file']);
    if (u.sota?.installer.type === 'directory')
      u.sota.installer.root = place(u.sota.installer.root, ['updates', 'sota', 'installer', 'root'])!;
    if (u.grpc) {
      const at: KeyPath = ['updates', 'grpc'];
      u.grpc.listen = u.grpc.listen.map((l) => (l.startsWith('unix:') ? `unix:${place(l.slice(5), at)}` : l));
      const tls = u.grpc.tls;
      if (tls) for (const k of ['cert', 'key', 'ca'] as const) tls[k] = place(tls[k], [...at, 'tls', k])!;
    }
  }
  const r = config.rollout;
  if (r?.bundles)
    r.bundles.trust.keys = r.bundles.trust.keys.map(
      (k, i) => abs(k, ['rollout', 'bundles', 'trust', 'keys', i])!,
    );
}

type Raw = Record<string, unknown>;

/**
 * The config as written (`raw`: includes merged, env substituted, durations and sizes as written),
 * with every file path replaced by the absolute one of `config`: a document that means the same
 * wherever it is stored (the last known good in data_dir, a cloud bundle laid over the config).
 */
export function standalone(raw: unknown, config: ConfigT): Raw {
  // Copied on write, not cloned whole: the paths are a few keys, and the rest (a thousand rules)
  // is shared, as written and frozen.
  const copies = new WeakSet<object>();
  const copy = (v: object): Raw => {
    const c = (Array.isArray(v) ? [...v] : { ...v }) as Raw;
    copies.add(c);
    return c;
  };
  const out = copy(raw !== null && typeof raw === 'object' ? raw : {});
  delete out.include;
  /** The map or list under `k` of `cur`, if there is one: a copy of its own, to write to. */
  const child = (cur: Raw, k: string | number): Raw | undefined => {
    const next = cur[k as string];
    if (next === null || typeof next !== 'object') return undefined;
    if (copies.has(next)) return next as Raw;
    const c = copy(next);
    cur[k as string] = c;
    return c;
  };
  /** The map or list at `keys` in the document, if there is one: a copy of its own, to write to. */
  const container = (keys: (string | number)[]): Raw | undefined =>
    keys.reduce<Raw | undefined>((cur, k) => cur && child(cur, k), out);
  /** Sets `key` of the container at `keys` to `value` where the document has a string there. */
  const put = (keys: (string | number)[], key: string | number, value: unknown) => {
    const c = container(keys);
    if (c && typeof c[key as string] === 'string') c[key as string] = value;
  };
  /** Sets a path whose default is relative (so it must be written even when the document left it out). */
  const pin = (keys: string[], key: string, value: unknown) => {
    const parent = container(keys.slice(0, -1));
    if (!parent) return;
    const section = keys.at(-1)!;
    const c = child(parent, section) ?? copy({});
    parent[section] = c;
    c[key] = value;
  };
  pin(['unit'], 'data_dir', config.unit.data_dir);
  pin(['control'], 'socket', config.control.socket);
  for (const [name, svc] of Object.entries(config.services)) {
    const base = ['services', name];
    for (const fp of driverNamed(svc.driver)?.files(svc.settings as Settings) ?? []) {
      const value = fp.reduce<unknown>((o, k) => (o as Raw)[k as string], svc.settings);
      put([...base, 'settings', ...fp.slice(0, -1)], fp.at(-1)!, value);
    }
    for (const [i, h] of svc.hooks.entries()) put([...base, 'hooks', i], 'use', h.use);
    for (const [wi, w] of svc.workers.entries())
      for (const [mi, m] of w.messages.entries()) {
        const mp = [...base, 'workers', wi, 'messages', mi];
        put(mp, 'handler', m.handler);
        for (const kind of ['converter', 'trigger', 'filter', 'enricher', 'returner'] as const) {
          const written = container(mp)?.[kind];
          if (typeof written === 'string') put(mp, kind, m[kind][0]);
          else for (const [i, v] of m[kind].entries()) put([...mp, kind], i, v);
        }
      }
  }
  for (const k of ['ca', 'cert', 'key'] as const) put(['cloud', 'mqtt'], k, config.cloud?.mqtt[k]);
  const u = config.updates;
  if (u) {
    for (const [i, k] of (u.trust?.keys ?? []).entries()) put(['updates', 'trust', 'keys'], i, k);
    pin(['updates', 'download'], 'dir', u.download.dir);
    put(['updates'], 'desired_file', u.desired_file);
    if (u.sota?.installer.type === 'directory')
      put(['updates', 'sota', 'installer'], 'root', u.sota.installer.root);
    const grpc = container(['updates', 'grpc']);
    if (u.grpc && grpc && grpc.listen !== undefined) grpc.listen = u.grpc.listen;
    for (const k of ['cert', 'key', 'ca'] as const) put(['updates', 'grpc', 'tls'], k, u.grpc?.tls?.[k]);
  }
  for (const [i, k] of (config.rollout?.bundles?.trust.keys ?? []).entries())
    put(['rollout', 'bundles', 'trust', 'keys'], i, k);
  return out;
}
