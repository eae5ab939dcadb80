import { createHash } from 'node:crypto';
import type { DesiredStatusT } from '../../schemas/wire.js';
import { type InstalledT, type ItemT, itemKey } from './model.js';
import type { KindPolicy } from './policy.js';

/** What one machine is asked for by a desired status. */
export interface DesiredPart {
  /** Digest of the asked-for items: equal parts ask for the same thing. */
  key: string;
  /** Digest of the items and the schedule: an equal one is a resent desired status. */
  fullKey: string;
  schedule: DesiredStatusT['fotaSchedule'];
}

const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

/** What a desired status asks of one machine (DESIGN §7): its items (a unit config among them) and schedule. */
export function desiredPart(policy: KindPolicy, d: DesiredStatusT): DesiredPart {
  const schedule = policy.schedule(d);
  const key = digest(policy.wanted(d));
  return { key, fullKey: digest([key, schedule ?? null]), schedule };
}

/**
 * The items a desired status asks of one machine, against what is installed (DESIGN §7.1):
 * installed again when the version differs or the last install did not end `installed`
 * (components keyed by (id, type), services by (id, version), layers by digest); where the policy
 * removes, installed ones no longer desired are removed (a unit config stays until another replaces it).
 */
export function diffDesired(
  policy: KindPolicy,
  d: DesiredStatusT,
  installed: readonly InstalledT[],
): ItemT[] {
  const have = new Map(installed.map((i) => [`${i.section}:${itemKey(i)}`, i]));
  const wanted = policy.wanted(d, installed);
  const items: ItemT[] = [];
  for (const i of wanted) {
    const was = have.get(`${i.section}:${itemKey(i)}`);
    if (was?.status === 'installed' && was.version === i.version) continue;
    items.push({ ...i, action: 'install', status: 'pending' });
  }
  const keep = new Set(wanted.map((i) => `${i.section}:${itemKey(i)}`));
  for (const i of installed) {
    if (!policy.removes.includes(i.section) || keep.has(`${i.section}:${itemKey(i)}`)) continue;
    items.push({ ...i, urls: [], action: 'remove', status: 'pending', errorInfo: undefined });
  }
  return items;
}
