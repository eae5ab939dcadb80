/**
 * Every command's `--help`, through the installed command: each has Examples, each example names a
 * command that exists, and none points at documents that do not ship with pitcrew.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runBin } from '../helpers/cli.js';

/** The subcommands a help text lists under "Commands:" (without `help`). */
const subcommands = (help: string) =>
  [...(help.split('\nCommands:\n')[1] ?? '').matchAll(/^ {2}([a-z][a-z-]*)\b/gm)]
    .map((m) => m[1]!)
    .filter((n) => n !== 'help');

describe('pitcrew --help', () => {
  it('every command has examples of commands that exist, and no pointer to unshipped documents', async () => {
    const seen = new Map<string, string>();
    const visit = async (path: string[]) => {
      const r = await runBin([...path, '--help']);
      assert.equal(r.code, 0, `${path.join(' ')}: ${r.stderr}`);
      seen.set(path.join(' '), r.stdout);
      await Promise.all(subcommands(r.stdout).map((c) => visit([...path, c])));
    };
    await visit([]);
    assert.ok(seen.size >= 24, [...seen.keys()].join(', '));
    for (const [name, help] of seen) {
      assert.doesNotMatch(help, /DESIGN|§/, name);
      const examples = help.split('\nExamples:\n')[1];
      assert.ok(examples, `pitcrew ${name} --help has no Examples`);
      // Each example runs a command of the tree (after any environment settings or a pipe into it).
      for (const [, line] of examples.matchAll(
        /^ {2}\$ .*?\bpitcrew ([a-z][a-z ]*?)(?= -| {2}| '|$| [^a-z])/gm,
      )) {
        const words = line!.split(' ');
        const known = words.some((_, i) => seen.has(words.slice(0, i + 1).join(' ')));
        assert.ok(known, `pitcrew ${name}: an example runs 'pitcrew ${line}', which is no command`);
      }
    }
  });
});
