import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { load } from 'js-yaml';
import type * as z from 'zod';
import { DEFAULT_TOPIC_PREFIX } from '../../schemas/cloud.js';
import { DesiredStatus } from '../../schemas/wire.js';
import { type BrokerOptions, pushMessage } from '../cloud/push.js';
import { unitPrefix } from '../cloud/topics.js';
import { Bundle, protoFileIssue } from '../config/schema.js';
import { describeIssues } from '../config/schema-issues.js';
import { errors } from '../errors.js';
import { keygen, signEnvelope } from '../rollout/signing.js';
import { brokerFlags, brokerOf } from './broker-flags.js';

/** A kind of signed message for units: what it holds, and the topic it goes to. */
interface Signed {
  command: string;
  description: string;
  what: string;
  schema: z.ZodType;
  topic: string;
  /** Fills in what the signer adds when the file leaves it out. */
  stamp?: (data: Record<string, unknown>) => Record<string, unknown>;
}

const SIGNED: Signed[] = [
  {
    command: 'bundle',
    description: 'signed rule bundles for units: sign one, push it to a unit',
    what: 'bundle ({version, rules, services?}',
    schema: Bundle,
    topic: 'config',
  },
  {
    command: 'desired',
    description:
      'signed desired statuses for units (what to download and install): sign one, push it to a unit',
    what: 'desired status ({messageType: desiredStatus, components, services, layers, …}',
    schema: DesiredStatus,
    topic: 'desired',
    // Units take only a sequence greater than the last: the signing time in ms always is.
    stamp: (d) => ({ sequence: Date.now(), ...d }),
  },
];

/**
 * A bundle from a directory: its `bundle.yaml` ({version, rules, services?}), and every other file
 * under it (modules, their package.json, DBCs) carried with its SHA-256; relative paths in the
 * bundle's services resolve among them on the unit.
 */
function packDir(dir: string): unknown {
  const data = load(readFileSync(path.join(dir, 'bundle.yaml'), 'utf8')) as Record<string, unknown>;
  // No prototype: a file named __proto__ is a key like any other, for the check to refuse.
  const files: Record<string, { sha256: string; content: string }> = Object.create(null);
  for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
    const abs = path.join(dir, rel);
    if (rel === 'bundle.yaml' || !lstatSync(abs).isFile()) continue;
    const bytes = readFileSync(abs);
    files[rel.split(path.sep).join('/')] = {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      content: bytes.toString('base64'),
    };
  }
  return Object.keys(files).length ? { ...data, files } : data;
}

/** `pitcrew keygen`, `pitcrew bundle sign|push`, `pitcrew desired sign|push`. */
export function registerBundle(program: Command): void {
  program
    .command('keygen')
    .description(
      'make an Ed25519 key pair for signing bundles and desired statuses: the private key, and the public key beside it (.pub)',
    )
    .option('-o, --out <file>', 'where to write the private key (PEM, mode 0600)', 'pitcrew-signing.key')
    .action((opts: { out: string }) => {
      const k = keygen();
      writeFileSync(opts.out, k.privatePem, { mode: 0o600, flag: 'wx' });
      writeFileSync(`${opts.out}.pub`, `${k.publicKey}\n`, { flag: 'wx' });
      console.log(`private key: ${opts.out} (keep it off the units)`);
      console.log(
        `public key: ${opts.out}.pub (copy it to the units, name it in rollout.bundles.trust.keys or updates.trust.keys)`,
      );
      console.log(`key id: ${k.keyId}`);
    });
  for (const s of SIGNED) registerSigned(program, s);
}

function registerSigned(program: Command, s: Signed): void {
  const group = program.command(s.command).description(s.description);
  group
    .command('sign')
    .description(`sign a ${s.what} in YAML or JSON); prints the envelope JSON`)
    .requiredOption('-k, --key <file>', 'private key from pitcrew keygen')
    .argument(
      '<file>',
      `${s.command} file${s.command === 'bundle' ? ', or a directory: its bundle.yaml and every other file in it' : ''}`,
    )
    .action((file: string, opts: { key: string }) => {
      const read =
        s.command === 'bundle' && statSync(file).isDirectory()
          ? packDir(file)
          : (load(readFileSync(file, 'utf8')) as unknown);
      const data =
        s.stamp && read && typeof read === 'object' ? s.stamp(read as Record<string, unknown>) : read;
      const checked = s.schema.safeParse(data, { reportInput: true });
      const proto = s.command === 'bundle' ? protoFileIssue((data as { files?: unknown })?.files) : undefined;
      if (!checked.success || proto)
        throw errors.CLI_ARG(
          `${file}: not a ${s.command}: ${proto ?? describeIssues(s.schema, checked.error!.issues, [], s.command)}`,
        );
      console.log(
        JSON.stringify(signEnvelope(Buffer.from(JSON.stringify(data)), readFileSync(opts.key, 'utf8'))),
      );
    });
  brokerFlags(
    group
      .command('push')
      .description(`publish a signed ${s.command} to a unit: <prefix>/${s.topic} on the broker, QoS 1`),
  )
    .requiredOption('--unit <id>', 'the unit id')
    .option('--prefix <template>', "topic prefix, as the unit's cloud.topic_prefix", DEFAULT_TOPIC_PREFIX)
    .argument('<envelope>', `signed envelope from pitcrew ${s.command} sign`)
    .action(async (file: string, opts: BrokerOptions & { unit: string; prefix: string }) => {
      const topic = `${unitPrefix(opts.prefix, { id: opts.unit })}/${s.topic}`;
      await pushMessage(brokerOf(opts), topic, readFileSync(file, 'utf8').trim());
      console.log(`pushed to ${topic}`);
    });
}
