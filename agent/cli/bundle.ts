import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { load } from 'js-yaml';
import { pushMessage } from '../cloud/push.js';
import { Bundle } from '../config/schema.js';
import { errors } from '../errors.js';
import { keygen, signEnvelope } from '../rollout/signing.js';

/** `pitcrew keygen`, `pitcrew bundle sign`, `pitcrew bundle push` (DESIGN §8). */
export function registerBundle(program: Command): void {
  program
    .command('keygen')
    .description(
      'make an Ed25519 key pair for signing bundles: the private key, and the public key beside it (.pub)',
    )
    .option('-o, --out <file>', 'where to write the private key (PEM, mode 0600)', 'pitcrew-signing.key')
    .action((opts: { out: string }) => {
      const k = keygen();
      writeFileSync(opts.out, k.privatePem, { mode: 0o600, flag: 'wx' });
      writeFileSync(`${opts.out}.pub`, `${k.publicKey}\n`, { flag: 'wx' });
      console.log(`private key: ${opts.out} (keep it off the units)`);
      console.log(
        `public key: ${opts.out}.pub (copy it to the units, name it in rollout.bundles.trust.keys)`,
      );
      console.log(`key id: ${k.keyId}`);
    });

  const bundle = program.command('bundle').description('signed rule bundles for units');
  bundle
    .command('sign')
    .description('sign a bundle ({version, rules, services?} in YAML or JSON); prints the envelope JSON')
    .requiredOption('-k, --key <file>', 'private key from pitcrew keygen')
    .argument('<bundle>', 'bundle file')
    .action((file: string, opts: { key: string }) => {
      const data = load(readFileSync(file, 'utf8')) as unknown;
      const checked = Bundle.safeParse(data);
      if (!checked.success)
        throw errors.CLI_ARG(
          `${file}: not a bundle: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      console.log(
        JSON.stringify(signEnvelope(Buffer.from(JSON.stringify(data)), readFileSync(opts.key, 'utf8'))),
      );
    });
  bundle
    .command('push')
    .description('publish a signed bundle to a unit: <prefix>/config on the broker, QoS 1')
    .requiredOption('--url <url>', 'broker, e.g. mqtts://broker.example:8883')
    .requiredOption('--unit <id>', 'the unit id')
    .option('--prefix <prefix>', 'topic prefix; {unit} is the unit id', 'pitcrew/{unit}')
    .argument('<envelope>', 'signed envelope from pitcrew bundle sign')
    .action(async (file: string, opts: { url: string; unit: string; prefix: string }) => {
      const topic = `${opts.prefix.replaceAll('{unit}', opts.unit)}/config`;
      await pushMessage(opts.url, topic, readFileSync(file, 'utf8').trim());
      console.log(`pushed to ${topic}`);
    });
}
