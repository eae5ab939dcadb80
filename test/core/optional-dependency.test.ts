import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { requireOptional } from '../../agent/core/optional-dependency.js';
import { fdPassingUnavailable } from '../../agent/dbus/connect.js';
import { tmpDir, writeFiles } from '../helpers/tmp.js';

/** A project whose node_modules holds `files` (path → content), and where to resolve from in it. */
function project(files: Record<string, string>): string {
  const dir = tmpDir();
  writeFiles(path.join(dir, 'node_modules'), files);
  return pathToFileURL(path.join(dir, 'index.js')).href;
}

describe('optional dependencies', () => {
  it('an installed one is the module itself', () => {
    const from = project({ 'good/index.js': 'module.exports = { answer: 42 };' });
    assert.deepEqual(requireOptional('good', from), { answer: 42 });
  });

  it('one that is not there says it is not installed', () => {
    assert.equal(requireOptional('absent', project({})), 'absent is not installed');
  });

  it('an addon that is on disk but fails to load says so, with the loader error and how to mend it', () => {
    // Not an ELF object: dlopen refuses it, as it refuses an addon built for another Node.
    const from = project({
      'addon/index.js': "module.exports = require('./build/addon.node');",
      'addon/build/addon.node': 'not a shared object',
    });
    const why = requireOptional('addon', from);
    assert.equal(typeof why, 'string');
    assert.match(
      why as string,
      /^addon is installed but did not load \(.+\); rebuild it for this node: npm rebuild addon$/,
    );
    assert.match(why as string, /addon\.node/);
    assert.doesNotMatch(why as string, /\n/);
  });

  it('a missing dependency of an installed one is a load failure, not a missing install', () => {
    const from = project({ 'needy/index.js': "module.exports = require('gone');" });
    assert.match(
      requireOptional('needy', from) as string,
      /^needy is installed but did not load \(Cannot find module 'gone'/,
    );
  });

  it("this installation's usocket loads, so logind's file descriptors can be received", () => {
    assert.equal(fdPassingUnavailable(), undefined);
  });
});
