import * as z from 'zod';
import { JSON_SCHEMAS, type SchemaFile } from './schema.js';

/** JSON Schema (draft 2020-12) of what a user writes, i.e. the schema's input side. */
export function jsonSchemaOf(file: SchemaFile): object {
  return {
    ...z.toJSONSchema(JSON_SCHEMAS[file], { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }),
    $id: `https://pitcrew.dev/schemas/${file}`,
  };
}
