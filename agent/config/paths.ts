import path from 'node:path';
import { driverNamed } from '../drivers/registry.js';
import type { Settings } from '../drivers/types.js';
import { MODULE_REF_RE } from '../hooks/registry.js';
import { type Composed, positionOf } from './compose.js';
import type { KeyPath } from './errors.js';
import type { ConfigT } from './schema.js';

/**
 * Makes every file path in a config absolute, against the directory of the file that names it
 * (DESIGN §12), so the runtime never depends on the working directory.
 */
export function resolvePaths(config: ConfigT, c: Composed): void {
  const dirOf = (p: KeyPath) => path.dirname(positionOf(c, p).file);
  const abs = (v: string | undefined, p: KeyPath) =>
    v === undefined || v === '' ? v : path.resolve(dirOf(p), v);
  const ref = (v: string, p: KeyPath) => {
    const m = MODULE_REF_RE.exec(v);
    return m ? `${path.resolve(dirOf(p), m[1]!)}#${m[2]}` : v;
  };

  config.unit.data_dir = abs(config.unit.data_dir, ['unit', 'data_dir'])!;
  config.control.socket = abs(config.control.socket, ['control', 'socket'])!;
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
  if (mqtt) for (const k of ['ca', 'cert', 'key'] as const) mqtt[k] = abs(mqtt[k], ['cloud', 'mqtt', k]);
  const u = config.updates;
  if (u) {
    u.trust.keys = u.trust.keys.map((k, i) => abs(k, ['updates', 'trust', 'keys', i])!);
    u.download.dir = abs(u.download.dir, ['updates', 'download', 'dir'])!;
    u.desired_file = abs(u.desired_file, ['updates', 'desired_file']);
    if (u.sota?.installer.type === 'directory')
      u.sota.installer.root = abs(u.sota.installer.root, ['updates', 'sota', 'installer', 'root'])!;
  }
  const r = config.rollout;
  if (r?.bundles)
    r.bundles.trust.keys = r.bundles.trust.keys.map(
      (k, i) => abs(k, ['rollout', 'bundles', 'trust', 'keys', i])!,
    );
}
