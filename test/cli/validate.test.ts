import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CONFIG_FILES } from '../config/config-files.js';
import { runCli } from '../helpers/cli.js';
import { tmpDir, writeFiles } from '../helpers/tmp.js';

describe('pitcrew validate', () => {
  it('exits 0 on the default config and every example', () => {
    for (const file of CONFIG_FILES) {
      const r = runCli(['validate', '-c', file], { env: { PITCREW_UNIT_ID: 'u1' } });
      assert.equal(r.code, 0, `${file}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^${file}: ok \\(`));
    }
  });

  it('exits 1 and prints every error, each as file:line:column key.path: reason', () => {
    const dir = tmpDir();
    writeFiles(dir, {
      'bad.yaml': 'version: 1\nunit: { id: 7 }\nstatus: { windw: 5s }\n',
    });
    const r = runCli(['validate', '-c', 'bad.yaml'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      [
        'bad.yaml:2:13 unit.id: expected string, got 7',
        "bad.yaml:3:11 status.windw: unknown key 'windw' (did you mean 'window'?)",
        '2 errors',
        '',
      ].join('\n'),
    );
  });

  it('takes the file as its argument, as -c names it; both, and different, are an error', () => {
    const dir = tmpDir();
    writeFiles(dir, {
      'a.yaml':
        'version: 1\nservices: { car: { driver: sim-vehicle, settings: {} } }\nreactor: { rules: [{ name: r, on: t, do: [{ emit: { tag: x } }] }] }\n',
      'b.yaml': 'version: 2\n',
    });
    const ok = runCli(['validate', 'a.yaml'], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'a.yaml: ok (1 file, 1 service, 1 rule)\n');
    const bad = runCli(['validate', 'b.yaml'], { cwd: dir });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^b\.yaml:1:10 version: version must be 1/);
    assert.equal(runCli(['validate', 'a.yaml', '-c', 'a.yaml'], { cwd: dir }).code, 0);
    const both = runCli(['validate', 'a.yaml', '-c', 'b.yaml'], { cwd: dir });
    assert.equal(both.code, 1);
    assert.match(both.stderr, /two configs to check, a\.yaml and -c b\.yaml: name one/);
  });

  it('reports a missing file as an error, not a crash', () => {
    const dir = tmpDir();
    const r = runCli(['validate', '-c', path.join(dir, 'nope.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nope\.yaml:1:1 \(root\): cannot read .*nope\.yaml: file not found/);
  });
});

describe('pitcrew schema, --version, --help', () => {
  it('prints the config JSON Schema', () => {
    const r = runCli(['schema']);
    assert.equal(r.code, 0);
    const schema = JSON.parse(r.stdout) as { $id: string; properties: Record<string, unknown> };
    assert.equal(schema.$id, 'https://pitcrew.dev/schemas/pitcrew.schema.json');
    assert.ok('services' in schema.properties && 'reactor' in schema.properties);
  });

  it('prints a wire format schema by name and refuses unknown names', () => {
    assert.match(runCli(['schema', 'desired-status']).stdout, /desiredStatus/);
    const bad = runCli(['schema', 'nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown schema 'nope'/);
  });

  it('prints the package version and help with examples', () => {
    assert.match(runCli(['--version']).stdout.trim(), /^\d+\.\d+\.\d+$/);
    assert.match(runCli(['--help']).stdout, /Examples:\n\s+\$ pitcrew run .*\n(.*\n)*\s+\$ pitcrew validate/);
  });
});

describe('pitcrew logic', () => {
  it('prints the result as JSON, with the extensions', () => {
    const r = runCli([
      'logic',
      '{"and": [{">": [{"var": "speed"}, 100]}, {"in": [{"var": "gear"}, ["D", "S"]]}]}',
      '{"speed": 120, "gear": "S"}',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'true\n');
    const d = runCli(['logic', '{"distance": [59.9139, 10.7522, 59.9139, 10.7522]}']);
    assert.equal(d.stdout, '0\n');
  });

  it('reports an unknown operator or bad JSON and exits 1', () => {
    const r = runCli(['logic', '{"teleport": 1}']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Unrecognized operation teleport/);
    assert.match(runCli(['logic', '{oops']).stderr, /logic is not JSON/);
  });
});

describe('pitcrew validate: where the config is and what it includes', () => {
  it('warns when an include glob matches no file (a config copied without its rules)', () => {
    const dir = tmpDir();
    writeFiles(dir, {
      '.pitcrew-root': '',
      'etc/pitcrew.yaml': 'version: 1\ninclude: [../rules/*.yaml]\n',
      'rules/a.yaml': 'reactor: { rules: [{ name: a, on: x, do: [{ stop: true }] }] }\n',
    });
    const home = runCli(['validate', '-c', 'etc/pitcrew.yaml'], { cwd: dir });
    assert.equal(home.code, 0, home.stderr);
    assert.match(home.stdout, /1 rule\)/);
    assert.equal(home.stderr, '');
    writeFiles(dir, { 'copied/pitcrew.yaml': 'version: 1\ninclude: [../rules/*.yml]\n' });
    const copied = runCli(['validate', '-c', 'copied/pitcrew.yaml'], { cwd: dir });
    assert.equal(copied.code, 0, copied.stderr);
    assert.match(copied.stdout, /0 rules\)/);
    assert.equal(
      copied.stderr,
      `warning: copied/pitcrew.yaml:2:11 include: ../rules/*.yml matches no file in ${path.join(dir, 'copied')}\n`,
    );
  });

  it('without -c reads $PITCREW_CONFIG, then ./config/pitcrew.yaml, then /etc/pitcrew/pitcrew.yaml', () => {
    const dir = tmpDir();
    writeFiles(dir, { 'config/pitcrew.yaml': 'version: 1\n', 'other.yaml': 'version: 1\n' });
    const checkout = runCli(['validate'], { cwd: dir, env: { PITCREW_CONFIG: '' } });
    assert.match(checkout.stdout, /^config\/pitcrew\.yaml: ok/);
    const named = runCli(['validate'], { cwd: dir, env: { PITCREW_CONFIG: path.join(dir, 'other.yaml') } });
    assert.match(named.stdout, /other\.yaml: ok/);
    const installed = runCli(['validate'], { cwd: tmpDir(), env: { PITCREW_CONFIG: '' } });
    assert.equal(installed.code, 1);
    assert.match(installed.stderr, /\/etc\/pitcrew\/pitcrew\.yaml/);
  });
});
