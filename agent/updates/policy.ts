import type { UpdateKindT } from '../../schemas/common.js';
import type { DesiredStatusT, WireScheduleT } from '../../schemas/wire.js';
import { normalDigest } from './digest.js';
import type { InstalledT, ItemT, SectionT, StateT } from './model.js';

/** An item as a desired status asks for it, before the diff says install or leave. */
export type Wanted = Omit<ItemT, 'action' | 'status'>;

type Artifact = { urls: string[]; sha256: string; size: number };
const fetchOf = (a: Artifact) => ({ urls: a.urls, sha256: normalDigest(a.sha256), size: a.size });

/** How the two machines differ (DESIGN §7): one policy per kind, where the code would branch on it. */
export interface KindPolicy {
  /** One item that cannot be downloaded or installed stops the others: firmware is one set. */
  allOrNothing: boolean;
  /** The sections whose installed items, no longer desired, it removes (components are replaced, never removed). */
  removes: readonly SectionT[];
  /** Its schedule in a desired status. */
  schedule(d: DesiredStatusT): WireScheduleT | undefined;
  /** The items a desired status asks of it, given what is installed (none: as the message says). */
  wanted(d: DesiredStatusT, installed?: readonly InstalledT[]): Wanted[];
}

export const POLICY: Readonly<Record<UpdateKindT, KindPolicy>> = {
  fota: {
    allOrNothing: true,
    removes: [],
    schedule: (d) => d.fotaSchedule,
    // A component without an id (as an Aos cloud sends it) is every installed one of its type, or
    // one named by its type when none is.
    wanted: (d, installed = []) =>
      d.components.flatMap((c) => {
        const ids = c.id
          ? [c.id]
          : installed.filter((i) => i.section === 'components' && i.type === c.type).map((i) => i.id);
        return (ids.length ? ids : [c.type]).map((id) => ({
          section: 'components' as const,
          id,
          type: c.type,
          version: c.version,
          ...fetchOf(c),
        }));
      }),
  },
  sota: {
    allOrNothing: false,
    removes: ['services', 'layers'],
    schedule: (d) => d.sotaSchedule,
    // The unit config rides with the software, as in Aos: applied in the same update, carried whole.
    wanted: (d) => [
      ...(d.unitConfig
        ? [
            {
              section: 'unitConfig' as const,
              id: 'unit',
              version: d.unitConfig.version,
              urls: [],
              content: d.unitConfig,
            },
          ]
        : []),
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
