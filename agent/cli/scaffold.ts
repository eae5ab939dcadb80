import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Name } from '../../schemas/common.js';
import { errors } from '../errors.js';
import { sdkRegisterFile } from '../sdk-resolve.js';

const service = () => `import { defineService, z } from 'pitcrew';

/** A service: its settings (checked by \`pitcrew validate\`, with positions) and its handlers. */
export default defineService({
  settings: z.object({ greeting: z.string().default('hello') }),
  create(settings, ctx) {
    let calls = 0;
    return {
      start() {
        ctx.log.info(\`\${ctx.service} started\`);
      },
      stop() {},
      handlers: {
        // A handler answers a worker's message with a result: {type, value, ts}.
        hello: async () => ({ type: 'hello', value: \`\${settings.greeting} #\${++calls}\`, ts: ctx.clock.now() }),
      },
    };
  },
});
`;

const test = () => `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceHarness } from 'pitcrew/testing';
import service from './service.js';

// Run with \`pitcrew test\`: the service on a fake clock and a bus, as the agent would create it.
test('hello counts its calls', async () => {
  const s = await serviceHarness(service, { greeting: 'hi' });
  await s.start();
  assert.equal((await s.call('hello')).value, 'hi #1');
  assert.equal((await s.call('hello')).value, 'hi #2');
  await s.stop();
});
`;

const config = (
  name: string,
) => `# A config that runs the service: pitcrew validate -c ${name}/pitcrew.yaml, then pitcrew run -c …
version: 1
unit: { id: dev-unit, data_dir: var }
services:
  ${name}:
    driver: module
    settings: { module: ./service.js, greeting: hello }
    workers:
      - { name: greet, interval: 10s, messages: [{ handler: hello, returner: [signals, log] }] }
`;

/** `pitcrew new service NAME` and `pitcrew test`: a module service to start from, and its tests run as the agent resolves them. */
export function registerScaffold(program: Command): void {
  program
    .command('new')
    .description(
      'write a new module service to start from: NAME/service.js, its test and a config that runs it',
    )
    .argument('<what>', 'service')
    .argument('<name>', 'the service name (letters, digits, _ and -), also its directory')
    .action((what: string, name: string) => {
      if (what !== 'service') throw errors.CLI_ARG(`new ${what}: only 'new service NAME' is known`);
      if (!Name.safeParse(name).success)
        throw errors.CLI_ARG(
          `'${name}' is not a service name: letters, digits, _ and -, starting with a letter or digit`,
        );
      if (existsSync(name)) throw errors.CLI_ARG(`${name} already exists: nothing was written`);
      mkdirSync(name);
      writeFileSync(path.join(name, 'service.js'), service());
      writeFileSync(path.join(name, 'service.test.js'), test());
      writeFileSync(path.join(name, 'pitcrew.yaml'), config(name));
      console.log(`wrote ${name}/service.js, ${name}/service.test.js and ${name}/pitcrew.yaml
next: pitcrew test ${name}/service.test.js; pitcrew validate -c ${name}/pitcrew.yaml; pitcrew run -c ${name}/pitcrew.yaml`);
    });
  program
    .command('test')
    .description(
      "run a module's tests (node:test) with `pitcrew` and `pitcrew/testing` resolved to this agent's SDK",
    )
    .argument('<files...>', 'test files')
    .action((files: string[]) => {
      const reg = sdkRegisterFile();
      const r = spawnSync(
        process.execPath,
        [...(reg.tsx ? ['--import', 'tsx'] : []), '--import', reg.file, '--test', ...files],
        // A run of its own, even when started from inside another test run.
        { stdio: 'inherit', env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
      );
      process.exitCode = r.status ?? 1;
    });
}
