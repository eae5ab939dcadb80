/** Writes the JSON Schema files under schemas/ from the zod schemas (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { jsonSchemaOf } from '../agent/config/json-schema.js';
import { JSON_SCHEMAS, type SchemaFile } from '../agent/config/schema.js';

export function schemaText(file: SchemaFile): string {
  return `${JSON.stringify(jsonSchemaOf(file), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of Object.keys(JSON_SCHEMAS) as SchemaFile[]) {
    writeFileSync(new URL(`../schemas/${file}`, import.meta.url), schemaText(file));
    console.log(`schemas/${file}`);
  }
}
