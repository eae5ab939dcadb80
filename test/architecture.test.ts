import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '..');
const AGENT = path.join(ROOT, 'agent');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a file (static, dynamic and type-only), resolved to repository paths. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g))
    out.push(path.relative(ROOT, path.resolve(path.dirname(file), m[1]!)));
  return out;
}

/** The layer a repository path belongs to: `agent/<folder>`, a root module of agent/, or `schemas`. */
function layer(rel: string): string {
  const parts = rel.split(path.sep);
  if (parts[0] !== 'agent') return parts[0]!;
  return parts.length > 2 ? `agent/${parts[1]}` : rel.replace(/\.[jt]s$/, '');
}

describe('architecture', () => {
  it('the kernel (agent/core) imports only the kernel and schemas/', () => {
    const bad: string[] = [];
    for (const f of files(path.join(AGENT, 'core'))) {
      for (const target of imports(f)) {
        const ok =
          target.startsWith(`agent${path.sep}core${path.sep}`) || target.startsWith(`schemas${path.sep}`);
        if (!ok) bad.push(`${path.relative(ROOT, f)} → ${target}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('schemas/ and the error catalogue import nothing of the agent', () => {
    const bad: string[] = [];
    for (const f of [...files(path.join(ROOT, 'schemas')), path.join(AGENT, 'core/errors.ts')]) {
      for (const target of imports(f))
        if (target.startsWith(`agent${path.sep}`)) bad.push(`${f} → ${target}`);
    }
    assert.deepEqual(bad, []);
  });

  it('no two folders of agent/ depend on each other, directly or through others', () => {
    const edges = new Map<string, Set<string>>();
    for (const f of files(AGENT)) {
      const from = layer(path.relative(ROOT, f));
      for (const target of imports(f)) {
        const to = layer(target);
        if (to !== from) (edges.get(from) ?? edges.set(from, new Set()).get(from)!).add(to);
      }
    }
    const cycles: string[] = [];
    const reach = (from: string, seen = new Set<string>()): Set<string> => {
      for (const next of edges.get(from) ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        reach(next, seen);
      }
      return seen;
    };
    for (const from of edges.keys()) if (reach(from).has(from)) cycles.push(from);
    assert.deepEqual(cycles, []);
  });

  it('only the composition root (runtime/) and the command line (cli/) import runtime/; parts see their context', () => {
    const bad: string[] = [];
    for (const f of files(AGENT)) {
      const from = layer(path.relative(ROOT, f));
      if (from === 'agent/runtime' || from === 'agent/cli' || from === 'agent/index') continue;
      for (const target of imports(f))
        if (layer(target) === 'agent/runtime') bad.push(`${path.relative(ROOT, f)} → ${target}`);
    }
    assert.deepEqual(bad, []);
  });
});
