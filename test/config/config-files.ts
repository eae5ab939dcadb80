import { readdirSync } from 'node:fs';

/** The default config and every example: all must validate. */
export const CONFIG_FILES = [
  'config/pitcrew.yaml',
  ...readdirSync('config/examples')
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => `config/examples/${f}`),
];
