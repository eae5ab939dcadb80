import type { UpdateKindT } from '../../schemas/common.js';
import type { DesiredStatusT, WireScheduleT } from '../../schemas/wire.js';
import type { ItemT, SectionT, StateT } from './model.js';

/** An item as a desired status asks for it, before the diff says install or leave. */
export type Wanted = Omit<ItemT, 'action' | 'status'>;

type Artifact = { urls: string[]; sha256: string; size: number };
const fetchOf = (a: Artifact) => ({ urls: a.urls, sha256: a.sha256, size: a.size });

/** How the two machines differ (DESIGN §7): one policy per kind, where the code would branch on it. */
export interface KindPolicy {
  /** One item that cannot be downloaded or installed stops the others: firmware is one set. */
  allOrNothing: boolean;
  /** Installed items it owns that are no longer desired are removed (components are replaced, never removed). */
  removes: boolean;
  /** The sections of the unit status its items live in. */
  sections: readonly SectionT[];
  /** Its schedule in a desired status. */
  schedule(d: DesiredStatusT): WireScheduleT | undefined;
  /** The unit config it carries along, if any. */
  unitConfig(d: DesiredStatusT): { version: string } | undefined;
  /** The items a desired status asks of it. */
  wanted(d: DesiredStatusT): Wanted[];
}

export const POLICY: Readonly<Record<UpdateKindT, KindPolicy>> = {
  fota: {
    allOrNothing: true,
    removes: false,
    sections: ['components'],
    schedule: (d) => d.fotaSchedule,
    unitConfig: () => undefined,
    wanted: (d) =>
      d.components.map((c) => ({
        section: 'components',
        id: c.id,
        type: c.type,
        version: c.version,
        ...fetchOf(c),
      })),
  },
  sota: {
    allOrNothing: false,
    removes: true,
    sections: ['services', 'layers'],
    schedule: (d) => d.sotaSchedule,
    unitConfig: (d) => (d.unitConfig ? { version: d.unitConfig.version } : undefined),
    wanted: (d) => [
      ...d.services.map((s) => ({
        section: 'services' as const,
        id: s.id,
        version: s.version,
        ...fetchOf(s),
      })),
      ...d.layers.map((l) => ({
        section: 'layers' as const,
        id: l.id,
        version: l.version,
        digest: l.digest,
        ...fetchOf(l),
      })),
    ],
  },
};

/**
 * DESIGN §7.2, written once: from each state, the states a machine may go to. A machine that tries
 * any other transition has a bug, and says so rather than persisting it.
 */
export const TRANSITIONS: Readonly<Record<StateT, readonly StateT[]>> = {
  noUpdate: ['downloading', 'readyToUpdate'],
  downloading: ['readyToUpdate', 'noUpdate'],
  readyToUpdate: ['updating', 'noUpdate'],
  updating: ['noUpdate'],
};
