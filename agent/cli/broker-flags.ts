import type { Command } from 'commander';
import type { BrokerOptions } from '../cloud/push.js';

/** The broker options of the fleet commands: the same TLS files and credentials a unit's `cloud.mqtt` takes. */
export function brokerFlags(cmd: Command): Command {
  return cmd
    .requiredOption('--url <url>', 'broker, e.g. mqtts://broker.example:8883')
    .option('--ca <file>', 'CA bundle that signed the broker certificate (PEM)')
    .option('--cert <file>', 'client certificate, for mutual TLS (PEM)')
    .option('--key <file>', 'client private key, for mutual TLS (PEM)')
    .option('--username <name>', 'broker user name')
    .option('--password <password>', 'broker password (default: $PITCREW_MQTT_PASSWORD)');
}

/** The broker options given on the command line; the password may come from the environment, off `ps`. */
export function brokerOf(opts: BrokerOptions, env = process.env): BrokerOptions {
  return { ...opts, password: opts.password ?? env.PITCREW_MQTT_PASSWORD };
}
