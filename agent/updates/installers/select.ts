import path from 'node:path';
import type { UpdatesT } from '../../../schemas/updates.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { errors } from '../errors.js';
import type { ItemT } from '../model.js';
import { archiveLimits } from './archive.js';
import { CommandInstaller } from './command.js';
import { DirectoryInstaller } from './directory.js';
import type { Installer } from './installer.js';
import { InstallerProcesses } from './processes.js';
import { UnitConfigInstaller } from './unit-config.js';

/** `*` any run of characters, `?` one; everything else literal. */
const globRe = (g: string) =>
  new RegExp(
    `^${g
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
  );

/** A SOTA command installer's timeout when none is set. */
const SOTA_TIMEOUT_MS = 1_800_000;

/**
 * The installer for an item: FOTA's first `installers` entry whose `match` globs fit the
 * component's id and type; SOTA's one installer; the unit config's. Throws PITCREW_UPDATE_INSTALL
 * when none fits. Their processes are recorded under `data_dir/installers`.
 */
export function installerSelector(
  u: UpdatesT,
  clock: Clock,
  dataDir: string,
  log: Logger,
): (item: ItemT) => Installer {
  const s = u.sota?.installer;
  const uc = u.unit_config?.installer;
  const timeouts = [
    ...(u.fota?.installers ?? []).map((i) => i.timeout),
    ...(s && s.type !== 'directory' ? [s.timeout ?? SOTA_TIMEOUT_MS] : []),
    ...(uc ? [uc.timeout] : []),
  ];
  const processes = timeouts.length
    ? new InstallerProcesses(path.join(dataDir, 'installers'), log, Math.max(...timeouts))
    : undefined;
  const fota = (u.fota?.installers ?? []).map((i) => ({
    id: i.match.id === undefined ? undefined : globRe(i.match.id),
    type: i.match.type === undefined ? undefined : globRe(i.match.type),
    installer: new CommandInstaller(i, i.timeout, clock, processes),
  }));
  const sota: Installer | undefined =
    s?.type === 'directory'
      ? new DirectoryInstaller(s.root, (file) =>
          archiveLimits(file, s.root, {
            maxUnpacked: s.max_unpacked,
            ratio: s.max_ratio,
            maxEntries: s.max_entries,
          }),
        )
      : s && new CommandInstaller(s, s.timeout ?? SOTA_TIMEOUT_MS, clock, processes);
  const unitConfig =
    uc &&
    new UnitConfigInstaller(
      path.join(dataDir, 'unit-config'),
      new CommandInstaller(uc, uc.timeout, clock, processes),
    );
  return (item) => {
    if (item.section === 'unitConfig') {
      if (!unitConfig) throw errors.UPDATE_INSTALL('unit config', 'updates.unit_config is not configured');
      return unitConfig;
    }
    if (item.section !== 'components') {
      if (!sota) throw errors.UPDATE_OFF('sota');
      return sota;
    }
    const hit = fota.find((f) => (!f.id || f.id.test(item.id)) && (!f.type || f.type.test(item.type ?? '')));
    if (!hit)
      throw errors.UPDATE_INSTALL(
        item.id,
        `no entry of updates.fota.installers matches type '${item.type}': add one whose match.type fits it`,
      );
    return hit.installer;
  };
}
