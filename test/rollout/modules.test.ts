/** Module code is config: a changed module file restarts the services that run it, with the new code. */
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfigSync } from '../../agent/config/load.js';
import { Reloader } from '../../agent/rollout/reloader.js';
import { agentFor } from '../helpers/agent.js';
import { tmpDir } from '../helpers/tmp.js';

const module = (answer: string) => `export function createService(_s, ctx) {
  return { handlers: { ask: async () => ({ type: 'answer', value: '${answer}', ts: ctx.clock.now() }) } };
}
`;

describe('module code as config', () => {
  it('a changed module file restarts only the services that run it, which then run the new code', async () => {
    const code = path.join(tmpDir(), 'oracle.mjs');
    writeFileSync(code, module('first'));
    const h = agentFor(`version: 1
services:
  oracle: { driver: module, settings: { module: ${code} } }
  obd: { driver: sim-vehicle, settings: {} }
`);
    const file = path.join(h.dir, 'pitcrew.yaml');
    const reloader = new Reloader(
      h.agent.context(h.agent.config.rollout, { file, files: [file], raw: loadConfigSync(file, {}).raw }),
    );
    h.agent.use(reloader, 'rollout');
    after(() => h.agent.stop());
    await h.agent.start();
    const ask = async () => ((await h.agent.call('oracle', 'ask')) as { value: string }).value;
    assert.equal(await ask(), 'first');
    const obdSince = h.agent.status().services.obd!.since;

    await h.clock.advance(1000);
    writeFileSync(code, module('second'));
    utimesSync(code, new Date(), new Date(Date.now() + 5000)); // a later mtime, whatever the file system's resolution
    assert.equal(await reloader.reload('test'), true);
    assert.equal(await ask(), 'second');
    const applied = h.events.filter((e) => e.tag === 'system/config/applied').at(-1)!;
    assert.deepEqual((applied.data.services as { changed: string[] }).changed, ['oracle']);
    assert.equal(h.agent.status().services.obd!.since, obdSince);
  });
});
