import { createHash } from 'node:crypto';
import type { UpdateKindT } from '../../schemas/common.js';
import type { DesiredStatusT } from '../../schemas/wire.js';
import { type InstalledT, type ItemT, itemKey } from './model.js';

/** What one machine is asked for by a desired status. */
export interface DesiredPart {
  /** Digest of the asked-for items: equal parts ask for the same thing. */
  key: string;
  /** Digest of the items and the schedule: an equal one is a resent desired status. */
  fullKey: string;
  schedule: DesiredStatusT['fotaSchedule'];
  unitConfig?: { version: string };
}

const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

/** Components for FOTA; services, layers and the unit config for SOTA. */
export function desiredPart(kind: UpdateKindT, d: DesiredStatusT): DesiredPart {
  const asked =
    kind === 'fota'
      ? { components: d.components }
      : { services: d.services, layers: d.layers, unitConfig: d.unitConfig };
  const schedule = kind === 'fota' ? d.fotaSchedule : d.sotaSchedule;
  const key = digest(asked);
  return {
    key,
    fullKey: digest([key, schedule ?? null]),
    schedule,
    ...(kind === 'sota' && d.unitConfig ? { unitConfig: { version: d.unitConfig.version } } : {}),
  };
}

type Artifact = { urls: string[]; sha256: string; size: number };
const fetchOf = (a: Artifact) => ({ urls: a.urls, sha256: a.sha256, size: a.size });

/**
 * The items a desired status asks of one machine, against what is installed (DESIGN §7.1):
 * components by (id, type), installed again when the version differs or the last install did not
 * end `installed`; services by (id, version), installed ones no longer desired removed; layers by
 * digest, likewise.
 */
export function diffDesired(kind: UpdateKindT, d: DesiredStatusT, installed: readonly InstalledT[]): ItemT[] {
  const have = new Map(installed.map((i) => [`${i.section}:${itemKey(i)}`, i]));
  const items: ItemT[] = [];
  const install = (i: Omit<ItemT, 'action' | 'status'>) => {
    const was = have.get(`${i.section}:${itemKey(i)}`);
    if (was?.status === 'installed' && was.version === i.version) return;
    items.push({ ...i, action: 'install', status: 'pending' });
  };
  if (kind === 'fota') {
    for (const c of d.components)
      install({ section: 'components', id: c.id, type: c.type, version: c.version, ...fetchOf(c) });
    return items;
  }
  for (const s of d.services) install({ section: 'services', id: s.id, version: s.version, ...fetchOf(s) });
  for (const l of d.layers)
    install({ section: 'layers', id: l.id, version: l.version, digest: l.digest, ...fetchOf(l) });
  const wanted = new Set([
    ...d.services.map((s) => `services:${s.id}@${s.version}`),
    ...d.layers.map((l) => `layers:${l.digest}`),
  ]);
  for (const i of installed) {
    if (i.section === 'components' || wanted.has(`${i.section}:${itemKey(i)}`)) continue;
    items.push({ ...i, urls: [], action: 'remove', status: 'pending', errorInfo: undefined });
  }
  return items;
}
