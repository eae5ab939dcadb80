import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { compose } from '../../agent/config/compose.js';
import type { ConfigIssue } from '../../agent/config/errors.js';
import { Config, JSON_SCHEMAS, type SchemaFile } from '../../agent/config/schema.js';
import { schemaText } from '../../scripts/gen-schema.js';
import { tmpDir, writeFiles } from '../helpers/tmp.js';
import { BAD_CASES } from './bad-configs.cases.js';
import { CONFIG_FILES } from './config-files.js';

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(JSON.parse(readFileSync('schemas/pitcrew.schema.json', 'utf8')));

describe('committed JSON Schema files', () => {
  for (const file of Object.keys(JSON_SCHEMAS) as SchemaFile[]) {
    it(`${file} is up to date (run npm run schema)`, () => {
      assert.equal(readFileSync(path.join('schemas', file), 'utf8'), schemaText(file));
    });
  }
});

describe('JSON Schema and zod agree', () => {
  for (const file of CONFIG_FILES) {
    it(`both accept ${file}`, () => {
      const data = compose(file, { PITCREW_UNIT_ID: 'u1' }, []).data;
      assert.equal(Config.safeParse(data).success, true);
      assert.equal(validate(data), true, JSON.stringify(validate.errors));
    });
  }
  for (const c of BAD_CASES) {
    it(`${c.schema ? 'both reject' : 'schema leaves to the semantic checks'}: ${c.name}`, () => {
      const dir = tmpDir();
      writeFiles(dir, c.files);
      const issues: ConfigIssue[] = [];
      const data = compose(path.join(dir, 'main.yaml'), { ...c.env }, issues).data;
      if (data === undefined) {
        // Not YAML at all: the reader reports it before any schema sees data.
        assert.ok(issues.length > 0);
        return;
      }
      assert.equal(!validate(data), c.schema, `JSON Schema ${c.schema ? 'accepted' : 'rejected'} it`);
      if (c.schema) assert.equal(Config.safeParse(data).success, false, 'zod accepted it');
    });
  }
});
