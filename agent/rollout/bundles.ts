import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type LoadedConfig, loadChecked } from '../config/load.js';
import type { ConfigMemo } from '../config/memo.js';
import { Bundle, protoFileIssue } from '../config/schema.js';
import { describeIssues } from '../config/schema-issues.js';
import { readJsonFile, writeDurably } from '../core/durable-file.js';
import { RefusalLimiter } from '../core/refusals.js';
import type { Part, PartContext, ReloaderPort } from '../parts/context.js';
import { writeBundleFiles } from './bundle-files.js';
import { errors, errorText } from './errors.js';
import { openEnvelope, readTrustedKeys } from './signing.js';

/** A bundle's rules and services, kept in its directory: laid over the config file at every load. */
const OVERLAY = 'overlay.json';
const VERSION_FILE = 'bundle-version.json';

type RulesAndServices = { rules?: unknown; services?: Record<string, unknown> };
type Kept = { version: number; digest: string; ack: Ack; kept?: number };

const overlayOf = (payload: Record<string, unknown>): RulesAndServices => ({
  ...(payload.rules === undefined ? {} : { rules: payload.rules }),
  ...(payload.services === undefined ? {} : { services: payload.services as Record<string, unknown> }),
});

/** Where a unit keeps its bundles, and the bundle of one version there. */
const rolloutDir = (dataDir: string) => path.join(dataDir, 'rollout');
const bundleDir = (dataDir: string, version: number) => path.join(rolloutDir(dataDir), `bundle-${version}`);

/**
 * What a unit keeps of its bundles: the version it last applied (none newer is taken again: no
 * replay, no downgrade), the last bundle taken, and the one that runs (`kept`). From the version
 * file; where that cannot be read (torn by a power cut before it was written durably), from the
 * bundles' directories, said in `unreadable`: the highest version is the one applied, and the
 * highest whole one (its overlay written) the one that runs.
 */
function savedState(dataDir: string): { applied: number; kept?: number; last?: Kept; unreadable?: string } {
  let saved: number | Partial<Kept> | undefined;
  try {
    saved = readJsonFile(path.join(rolloutDir(dataDir), VERSION_FILE)) as typeof saved;
  } catch (e) {
    const versions = (existsSync(rolloutDir(dataDir)) ? readdirSync(rolloutDir(dataDir)) : [])
      .map((name) => /^bundle-(\d+)$/.exec(name)?.[1])
      .filter((v) => v !== undefined)
      .map(Number)
      .sort((a, b) => b - a);
    const kept = versions.find((v) => existsSync(path.join(bundleDir(dataDir, v), OVERLAY)));
    return { applied: versions[0] ?? -1, ...(kept === undefined ? {} : { kept }), unreadable: errorText(e) };
  }
  if (saved === undefined) return { applied: -1 };
  // A bare number is the form before the last bundle was kept with it.
  if (typeof saved === 'number') return { applied: saved };
  // Saved before `kept` was: the last bundle, if it was applied.
  const kept = 'kept' in saved ? saved.kept : saved.ack?.status === 'applied' ? saved.version : undefined;
  return { applied: saved.version ?? -1, ...(kept === undefined ? {} : { kept }), last: saved as Kept };
}

/**
 * The directory of the bundle this unit runs: the last one applied and not reverted, whose rules and
 * services are laid over the config file at every start and reload (`pitcrew run`, the reloader).
 */
export function keptBundle(dataDir: string): string | undefined {
  const { kept } = savedState(dataDir);
  if (kept === undefined) return undefined;
  const dir = bundleDir(dataDir, kept);
  return existsSync(path.join(dir, OVERLAY)) ? dir : undefined;
}

/**
 * The config of `file` (reading within `within`, if given) with the bundle in `dir` over it, if
 * one, loaded and checked: the bundle's rules in place of the config's (a bundle without `rules`,
 * one that ships services, keeps the config's: none is not all gone), its services in place of
 * those of the same names. The bundle's parts are read from its overlay, where a problem in them
 * is placed, and their relative paths resolve among the files the bundle carries.
 */
export async function loadWithBundle(
  file: string,
  dir: string | undefined,
  opts: { within?: string | undefined; unitDir: string; memo?: ConfigMemo | undefined },
): Promise<LoadedConfig> {
  return loadChecked(file, process.env, {
    ...opts,
    ...(dir === undefined ? {} : { overlay: path.join(dir, OVERLAY) }),
  });
}

/** The largest bundle message taken: a rule set, not a firmware image. */
const MAX_BUNDLE_BYTES = 1024 * 1024;

type Ack = {
  version: number | null;
  status: 'applied' | 'rejected' | 'reverted';
  errors: string[];
  /**
   * Applied, on probation for this many ms (`rollout.health`): `reverted` may still follow. When it
   * passes, the bundle is acknowledged again with `healthy: true`.
   */
  probation?: number;
  healthy?: true;
  /** Refusals before this one that were not acknowledged (rate limit). */
  held?: number;
};

/**
 * Signed rule bundles from the cloud on `<prefix>/config` (DESIGN §8): the envelope's Ed25519
 * signature must come from a key in `rollout.bundles.trust.keys`, the payload
 * `{version, rules, services?}` must be newer than the last applied (no replay, no downgrade).
 * Its rules replace the config file's rule set and its services the file's services of the same
 * names; the result goes the same way as any change (validate, apply, health check). Every
 * outcome is acknowledged on `<prefix>/ack` as `{version, status, errors}`.
 */
export class BundleReceiver implements Part {
  readonly provides: Part['provides'];
  readonly name = 'rollout.bundles';
  private readonly dir: string;
  private readonly versionFile: string;
  private trusted: string[] = [];
  private applied: number;
  /**
   * The last bundle taken, as acknowledged: sent again, it is acknowledged again and changes nothing.
   * `kept`: the bundle that runs (laid over the config file at every start): this one once applied,
   * the one before it again if this one is reverted.
   */
  private last?: Kept;
  /** What ran before the bundle on probation: kept again if it is reverted. */
  private keptBefore?: number;
  private pending?: number;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly refusals: RefusalLimiter;

  /** `section`: `rollout.bundles`, whose trusted key files (`pitcrew keygen` writes one beside the private key) are read at start. */
  constructor(private readonly cx: PartContext<{ trust: { keys: string[] } }>) {
    this.refusals = new RefusalLimiter(cx.clock);
    this.dir = rolloutDir(cx.dataDir);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // A bundle a power cut stopped while it was written was never applied: nothing names it.
    for (const name of readdirSync(this.dir))
      if (/^bundle-\d+\.writing$/.test(name))
        rmSync(path.join(this.dir, name), { recursive: true, force: true });
    this.versionFile = path.join(this.dir, VERSION_FILE);
    const inUse = () =>
      [
        keptBundle(cx.dataDir),
        this.keptBefore === undefined ? undefined : bundleDir(cx.dataDir, this.keptBefore),
      ].filter((d) => d !== undefined);
    this.provides = { bundles: { inUse } };
    const saved = savedState(cx.dataDir);
    if (saved.unreadable) {
      cx.log.warn(
        `${saved.unreadable}; taking bundles newer than ${saved.applied}, running ${saved.kept ?? 'none'}`,
      );
      // What was worked out is kept, said once.
      writeDurably(this.versionFile, JSON.stringify({ version: saved.applied, kept: saved.kept }));
    }
    this.applied = saved.applied;
    this.last = saved.last;
    // Every config applied (the file changed, SIGHUP, a git commit) runs with the kept bundle over it.
    this.reloader.layOver(() => keptBundle(cx.dataDir));
    this.reloader.onReverted((reason, source) => {
      if (!source.startsWith('bundle ') || this.pending === undefined) return;
      const ack = this.ack({ version: this.pending, status: 'reverted', errors: [reason] });
      if (this.last?.version !== this.pending) return;
      rmSync(bundleDir(cx.dataDir, this.pending), { recursive: true, force: true });
      this.keep({ ...this.last, ack, kept: this.keptBefore });
    });
    this.reloader.onHealthy((source) => {
      const last = this.last;
      if (!source.startsWith('bundle ') || !last || last.version !== this.pending) return;
      // Healthy: no revert returns to the bundle before it, which housekeeping may now take.
      this.keptBefore = undefined;
      this.keep({
        ...last,
        ack: this.ack({ version: last.version, status: 'applied', errors: [], healthy: true }),
      });
    });
  }

  /** Declared in the registry (`needs: ['reloader']`), so it is there. */
  private get reloader(): ReloaderPort {
    return this.cx.ports.reloader!;
  }

  async start(): Promise<void> {
    this.trusted = readTrustedKeys(this.cx.section.trust.keys, 'rollout.bundles.trust.keys');
    if (this.applied >= 0) this.cx.cloud.reportItem('config', 'agent', { bundle: this.applied });
    this.cx.cloud.onMessage('config', (payload) => void this.receive(payload));
  }

  async stop(): Promise<void> {}

  /**
   * Checks, lays over the config file and applies one bundle message; acknowledges the outcome.
   * One at a time: the version check, the apply and the saved version are one critical section, so
   * bundles pushed back to back (N+1, then N) can never both apply.
   */
  receive(message: Buffer): Promise<Ack> {
    const run = this.queue.then(() => this.receiveNow(message));
    this.queue = run.catch(() => {});
    return run;
  }

  private async receiveNow(message: Buffer): Promise<Ack> {
    let version: number | null = null;
    try {
      if (message.length > MAX_BUNDLE_BYTES)
        throw errors.SIGNATURE(`${message.length} bytes, over the ${MAX_BUNDLE_BYTES} a bundle may have`);
      const bytes = openEnvelope(message.toString('utf8'), this.trusted);
      const payload = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
      const v = Bundle.shape.version.safeParse(payload?.version);
      if (!v.success) throw errors.SIGNATURE('the payload has no version (a whole number)');
      version = v.data;
      const digest = createHash('sha256').update(bytes).digest('hex');
      // The same bundle again (a fleet rollout's retry): its outcome again, nothing applied twice.
      if (this.last?.version === version && this.last.digest === digest) return this.ack(this.last.ack);
      if (version <= this.applied) throw errors.BUNDLE_VERSION(version, this.applied);
      const proto = protoFileIssue(payload.files);
      if (proto) throw errors.SIGNATURE(proto);
      const files = Bundle.shape.files.safeParse(payload.files, { reportInput: true });
      if (!files.success) throw errors.SIGNATURE(describeIssues(Bundle, files.error.issues, ['files']));
      const dir = await writeBundleFiles(bundleDir(this.cx.dataDir, version), files.data ?? {}, {
        [OVERLAY]: `${JSON.stringify(overlayOf(payload), null, 2)}\n`,
      });
      this.pending = version;
      // Over what runs: the config file, or the git commit's config in its place.
      const outcome = await this.reloader.applyFile(
        `bundle ${version}`,
        this.reloader.configFile,
        undefined,
        dir,
      );
      if (!outcome.ok) {
        // Only the bundle that runs keeps its directory (its modules run from there).
        rmSync(dir, { recursive: true, force: true });
        return this.ack({ version, status: 'rejected', errors: outcome.reasons });
      }
      this.applied = version;
      const probation = this.cx.config.current.rollout?.health?.window;
      const ack = this.ack({ version, status: 'applied', errors: [], ...(probation ? { probation } : {}) });
      // What a revert returns to, while one can come (`rollout.health`'s window).
      this.keptBefore = probation ? this.last?.kept : undefined;
      this.keep({ version, digest, ack, kept: version });
      this.cx.cloud.reportItem('config', 'agent', { bundle: version });
      return ack;
    } catch (e) {
      const refused: Ack = { version, status: 'rejected', errors: [errorText(e)] };
      // A flood of junk costs a few reports a minute; the next one says how many were held back.
      const { report, held } = this.refusals.admit('bundle');
      if (!report) return refused;
      this.cx.config.rejected(
        'bundle',
        held ? [...refused.errors, `${held} more refused before this one`] : refused.errors,
      );
      return this.ack({ ...refused, ...(held ? { held } : {}) });
    }
  }

  /** The applied version and the last bundle's outcome, kept across restarts. */
  private keep(last: Kept): void {
    this.last = last;
    writeDurably(this.versionFile, JSON.stringify(last));
  }

  /** Retained: a fleet tool that was away reads each unit's last outcome (DESIGN §15). */
  private ack(a: Ack): Ack {
    this.cx.log.info(a, `bundle ${a.version ?? '?'}: ${a.status}`);
    if (this.cx.cloud.configured)
      this.cx.cloud
        .publish('ack', JSON.stringify(a), 1, true)
        .catch((e) => this.cx.log.warn(`bundle ack: ${errorText(e)}`));
    return a;
  }
}
