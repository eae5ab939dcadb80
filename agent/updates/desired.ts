import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AosDesiredStatus, DesiredStatus, type DesiredStatusT } from '../../schemas/wire.js';
import { describeIssues } from '../config/schema-issues.js';
import { openEnvelope } from '../rollout/signing.js';
import { errors, errorText } from './errors.js';

/** The largest desired status taken: a list of items and their URLs, not the items themselves. */
export const MAX_DESIRED_BYTES = 1024 * 1024;

export type Protocol = 'pitcrew' | 'aos';

/** An Aos cloud's message: `{header: {systemId}, data}` unwrapped, the system id as the unit it is meant for. */
function unwrapAos(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || !('data' in data) || !('header' in data)) return data;
  const { header, data: inner } = data as { header: { systemId?: unknown }; data: unknown };
  const unit = typeof header?.systemId === 'string' && header.systemId ? { unit: header.systemId } : {};
  return inner !== null && typeof inner === 'object' ? { ...inner, ...unit } : inner;
}

/**
 * A desired status as it arrives (DESIGN §7.1): with pitcrew's protocol the envelope's Ed25519
 * signature checked against the trusted keys; with Aos's the message as it is (the config check
 * has made sure the link is mutual TLS). Then parsed and checked against its schema. Throws
 * PITCREW_SIGNATURE or PITCREW_DESIRED_STATUS saying why; nothing of a rejected message is used.
 */
export function openDesired(
  message: Buffer,
  trusted: readonly string[],
  protocol: Protocol = 'pitcrew',
): DesiredStatusT {
  if (message.length > MAX_DESIRED_BYTES)
    throw errors.DESIRED_STATUS(
      `${message.length} bytes, over the ${MAX_DESIRED_BYTES} a desired status may have`,
    );
  const payload = protocol === 'aos' ? message : openEnvelope(message.toString('utf8'), trusted);
  let data: unknown;
  try {
    data = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    throw errors.DESIRED_STATUS(`the payload is not JSON: ${errorText(e)}`);
  }
  const schema = protocol === 'aos' ? AosDesiredStatus : DesiredStatus;
  const checked = schema.safeParse(protocol === 'aos' ? unwrapAos(data) : data, { reportInput: true });
  if (!checked.success) throw errors.DESIRED_STATUS(describeIssues(schema, checked.error.issues));
  return checked.data;
}

/**
 * `updates.desired_file`, for units without a cloud link: read at start and again after each
 * change (its directory is watched, so an editor's save-by-rename is seen), debounced.
 */
export class DesiredFile {
  private watcher?: ReturnType<typeof watch>;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    private readonly onContent: (content: Buffer) => void,
    private readonly onError: (e: unknown) => void,
  ) {}

  start(): void {
    void this.read();
    this.watcher = watch(path.dirname(this.file), (_event, name) => {
      if (name !== null && name !== path.basename(this.file)) return;
      // The file system's own time: an editor's save comes as several events in a few ms.
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.read(), 200);
    });
    this.watcher.on('error', this.onError);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }

  private async read(): Promise<void> {
    const content = await readFile(this.file).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') this.onError(e);
    });
    if (content) this.onContent(content);
  }
}

/** What a desired status may carry that this unit does not act on, and how to tell it is there. */
const NOT_ACTED_ON: [field: string, present: (d: DesiredStatusT) => boolean][] = [
  ['decryptionInfo', (d) => artifacts(d).some((a) => a.decryptionInfo != null)],
  ['signs', (d) => artifacts(d).some((a) => a.signs != null)],
  ['certificates', (d) => listed(d.certificates)],
  ['certificateChains', (d) => listed(d.certificateChains)],
  ['nodes', (d) => listed(d.nodes)],
  ['instances', (d) => listed(d.instances)],
  ['unitConfig', (d) => d.unitConfig != null],
];

const artifacts = (d: DesiredStatusT): Record<string, unknown>[] => [
  ...d.components,
  ...d.services,
  ...d.layers,
];
const listed = (v: unknown) => Array.isArray(v) && v.length > 0;

/**
 * The fields of a desired status (an Aos cloud's, say) this unit takes but does not act on:
 * artifacts are installed as downloaded (not decrypted, their per-artifact signatures not
 * checked: the envelope's signature and the digest are), certificates and nodes are not applied;
 * service instances and the unit config only when `acting` names them (the unit is set up for
 * them). Said in the ack and the status, never silently.
 */
export const ignoredFields = (d: DesiredStatusT, acting: ReadonlySet<string>): string[] =>
  NOT_ACTED_ON.filter(([field, present]) => !acting.has(field) && present(d)).map(([field]) => field);
