import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { loadConfigSync } from '../../agent/config/load.js';
import type { Event } from '../../agent/core/bus.js';
import { type Clock, FakeClock } from '../../agent/core/clock.js';
import type { Trace } from '../../agent/reactor/traces.js';
import { Agent } from '../../agent/runtime/agent.js';
import { tmpDir } from './tmp.js';

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');

/** An agent on a YAML config written to a temp dir, on a fake clock, recording every event. */
export const agentFor = (yaml: string) => agentWith(yaml, new FakeClock());

/** As `agentFor`, on the clock given: `realClock` for tests whose time is a real broker's. */
export function agentWith<C extends Clock>(yaml: string, clock: C) {
  const dir = tmpDir();
  const file = path.join(dir, 'pitcrew.yaml');
  writeFileSync(file, yaml.replaceAll('$FIXTURES', FIXTURES));
  const loaded = loadConfigSync(file, {});
  const agent = new Agent(loaded.config, { clock, baseDir: dir, random: () => 0.5 });
  const events: Event[] = [];
  agent.bus.on('#', (e) => events.push(e));
  const tags = (prefix = '') => events.filter((e) => e.tag.startsWith(prefix)).map((e) => e.tag);
  return { agent, clock, events, tags, dir };
}

/** Yields to the event loop until `cond` holds (real I/O such as a module import finishing); no timers. */
export async function until(cond: () => boolean, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error('condition not reached');
}

/** A started agent with `yaml` as its rules (and `extra` config before them), recording every trace. */
export async function rulesAgent(yaml: string, extra = '') {
  const h = agentFor(`version: 1\n${extra}reactor:\n  rules:\n${yaml.replace(/^/gm, '    ')}`);
  after(() => h.agent.stop());
  const traces: Trace[] = [];
  h.agent.reactor.onTrace((t) => traces.push(t));
  await h.agent.start();
  return { ...h, traces };
}
