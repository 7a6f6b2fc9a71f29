/**
 * The JSON Schema of the hub config file (docs/hub-config.schema.json), generated from the valibot
 * schema the hub validates with, so editors check and complete what the hub will accept.
 * `npm run schema` writes it; a unit test fails when the committed file is out of date.
 *
 * The JSON Schema is a guide for editors: the hub's own rules go further (base64 secrets of 32
 * bytes, topic syntax, roles that exist, secrets not shared); the hub reports those with paths.
 */
import { writeFileSync } from 'node:fs';
import { toJsonSchema, type ConversionConfig } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { HubConfigSchema } from '../src/core/config/document-schema.js';

type Json = Record<string, unknown>;
export const SCHEMA_ID = 'https://github.com/crossbus/crossbus/blob/main/docs/hub-config.schema.json';
export const SCHEMA_FILE = new URL('../docs/hub-config.schema.json', import.meta.url);

const config: ConversionConfig = {
  errorMode: 'ignore', // transforms and checks have no JSON Schema form: they are skipped
  overrideSchema: ({ valibotSchema }) => {
    const s = valibotSchema as v.GenericSchema & { jsonSchema?: Json; namedEntry?: v.GenericSchema; anyOfSchemas?: v.GenericSchema[] };
    if (s.jsonSchema !== undefined) return { ...s.jsonSchema };
    if (s.anyOfSchemas !== undefined) return { anyOf: s.anyOfSchemas.map((x) => standalone(toJsonSchema(x, config) as Json)) };
    if (s.namedEntry !== undefined) {
      return {
        type: 'object',
        propertyNames: { pattern: '^[A-Za-z0-9_-]{1,64}$' },
        additionalProperties: standalone(toJsonSchema(s.namedEntry, config) as Json),
      };
    }
    return undefined;
  },
};

/**
 * A converted part made fit to sit inside the document: its `$ref`s point at its own `$defs`, which
 * would resolve against the document's root, so they are inlined (none is recursive).
 */
function standalone(part: Json): Json {
  const defs = (part.$defs ?? {}) as Record<string, Json>;
  const inline = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(inline);
    if (typeof node !== 'object' || node === null) return node;
    const o = node as Json;
    if (typeof o.$ref === 'string' && o.$ref.startsWith('#/$defs/')) return inline(defs[o.$ref.slice('#/$defs/'.length)]);
    return Object.fromEntries(
      Object.entries(o)
        .filter(([k]) => k !== '$defs')
        .map(([k, x]) => [k, inline(x)]),
    );
  };
  const { $schema: _dialect, ...rest } = inline(part) as Json;
  return rest;
}

/** Settings refuse unknown keys: say so wherever the converter left objects open. */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) for (const x of node) closeObjects(x);
  else if (typeof node === 'object' && node !== null) {
    const o = node as Json;
    if (o.properties !== undefined && (o.additionalProperties === undefined || o.additionalProperties === true))
      o.additionalProperties = false;
    for (const x of Object.values(o)) closeObjects(x);
  }
}

export function hubConfigJsonSchema(): Json {
  const generated = standalone(toJsonSchema(HubConfigSchema, config) as Json);
  closeObjects(generated);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title: 'crossbus hub config',
    description: 'The hub config file (crossbus.config.json or .yaml). See the README, "Security".',
    ...generated,
  };
}

export function hubConfigJsonSchemaText(): string {
  return `${JSON.stringify(hubConfigJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '\0')) {
  writeFileSync(SCHEMA_FILE, hubConfigJsonSchemaText());
  process.stdout.write(`wrote ${SCHEMA_FILE.pathname}\n`);
}
