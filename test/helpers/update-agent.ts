import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { FakeClock } from '../../agent/core/clock.js';
import { UpdateManager } from '../../agent/updates/manager.js';
import type { StateT } from '../../agent/updates/model.js';
import { agentWith } from './agent.js';
import { artifactServer } from './artifact-server.js';
import { signedDesired, signingKey, tarGz } from './updates.js';
import { waitFor } from './wait.js';

/** Monday 2026-01-05, 12:00 UTC. */
export const MONDAY_NOON = Date.UTC(2026, 0, 5, 12, 0, 0);

/**
 * An agent taking updates, on a fake clock, with a real artifact server on loopback and a signing
 * key it trusts. `updates` is the config's `updates` section without `trust`; `$DIR` is the
 * agent's directory. FOTA installers write `<id>-<version>` into `$DIR/flashed/` unless told otherwise.
 */
export async function updateAgent(updates: string, extra = '') {
  const http = await artifactServer();
  const clock = new FakeClock(MONDAY_NOON);
  const h = agentWith(
    `version: 1\nunit: { id: u1, timezone: UTC }\n${extra}updates:\n  trust: { keys: [update.pub] }\n${updates.replace(/^/gm, '  ')}`,
    clock,
  );
  const key = signingKey(h.dir);
  // The config was loaded before the key existed: it names the file, and the manager reads it at construction.
  const updatesConfig = JSON.parse(JSON.stringify(h.agent.config.updates).replaceAll('$DIR', h.dir));
  const manager = new UpdateManager(h.agent.context(updatesConfig));
  h.agent.use(manager, 'updates');
  after(() => h.agent.stop());
  await h.agent.start();
  let sequence = 0;
  /** Signs and delivers a desired status; one without a `sequence` gets the next one. */
  const send = (payload: Record<string, unknown>) =>
    manager.receive(signedDesired({ sequence: ++sequence, ...payload }, key.privatePem), 'test');
  const state = (kind: 'fota' | 'sota') =>
    (manager.status() as Record<string, { state: StateT }>)[kind]?.state;
  const reach = (kind: 'fota' | 'sota', s: StateT, debug?: () => string) =>
    waitFor(
      () => state(kind) === s,
      `${kind} to be ${s}`,
      debug ?? (() => JSON.stringify(manager.status(), null, 1)),
    );
  /** A component served by the artifact server. */
  const component = (id: string, version: string, type = 'ecu', body = randomBytes(2000)) => ({
    id,
    type,
    version,
    ...http.serve(`${id}-${version}.bin`, body),
  });
  /** A service (or layer) as a served .tar.gz holding `run` with its version. */
  const app = (id: string, version: string) => ({
    id,
    version,
    ...http.serve(`${id}-${version}.tar.gz`, tarGz([{ name: 'run', body: `${id} ${version}` }])),
  });
  const flashed = (id: string, version: string) =>
    existsSync(path.join(h.dir, 'flashed', `${id}-${version}`));
  /** A file the `blocking` installer waits for. */
  const release = () => writeFileSync(path.join(h.dir, 'go'), '');
  return { ...h, http, key, manager, send, state, reach, component, app, flashed, release };
}

/** A FOTA installer entry that records what it flashed. */
export const FLASH = `{ match: { type: "ecu*" }, command: [sh, -c, 'mkdir -p "$0/flashed" && cp "$1" "$0/flashed/$2-$3"', "$DIR", "{{ file }}", "{{ id }}", "{{ version }}"] }`;
/** One that waits for `release()` (at most ~10 s, so a failed test does not leave it running) before recording. */
export const BLOCKING = `{ match: { type: "ecu*" }, command: [sh, -c, 'i=0; while [ ! -f "$0/go" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done; mkdir -p "$0/flashed" && cp "$1" "$0/flashed/$2-$3"', "$DIR", "{{ file }}", "{{ id }}", "{{ version }}"] }`;
/** One that fails. */
export const FAILING = `{ match: { type: "bad*" }, command: [sh, -c, 'echo "flash failed: bad block" >&2; exit 3'] }`;

export const desired = (parts: Record<string, unknown>) => ({ messageType: 'desiredStatus', ...parts });
